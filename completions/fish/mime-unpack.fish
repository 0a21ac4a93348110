# fish completion for mime-unpack(1)
complete -c mime-unpack -s l -l list -d 'List the parts'
complete -c mime-unpack -s x -l extract -x -a '(__fish_complete_directories)' -d 'Extract the attachments into DIR'
complete -c mime-unpack -s f -l force -d 'Replace existing files'
complete -c mime-unpack -s s -l signatures -d 'Also extract the signatures of multipart/signed'
complete -c mime-unpack -s p -l part -x -d 'Write one decoded part to standard output'
complete -c mime-unpack -l join -d 'Reassemble message/partial fragments'
complete -c mime-unpack -s h -l help -d 'Show help'
complete -c mime-unpack -s V -l version -d 'Show version'
