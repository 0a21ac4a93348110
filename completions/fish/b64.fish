# fish completion for b64(1)
complete -c b64 -s d -l decode -d 'Decode instead of encode'
complete -c b64 -s u -l url -d 'Use the base64url alphabet'
complete -c b64 -s i -l ignore-garbage -d 'Skip bytes outside the alphabet when decoding'
complete -c b64 -s w -l wrap -x -a '0 64 76' -d 'Wrap encoded lines after COLS characters'
complete -c b64 -l crlf -d 'End encoded lines with CRLF'
complete -c b64 -s h -l help -d 'Show help'
complete -c b64 -s V -l version -d 'Show version'
