# fish completion for secmail-gateway(8)
complete -c secmail-gateway -s c -l config -r -F -d 'Policy file'
complete -c secmail-gateway -l outbound -d 'Sign and encrypt mail from a local sender'
complete -c secmail-gateway -l inbound -d 'Decrypt and verify mail for a local recipient'
complete -c secmail-gateway -s f -l sender -x -d 'Envelope sender'
complete -c secmail-gateway -l stdout -d 'Write the result to standard output, do not reinject'
complete -c secmail-gateway -s h -l help -d 'Show help'
complete -c secmail-gateway -s V -l version -d 'Show version'
