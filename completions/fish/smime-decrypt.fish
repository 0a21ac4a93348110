# fish completion for smime-decrypt(1)
complete -c smime-decrypt -l cert -r -d 'Recipient certificate'
complete -c smime-decrypt -l key -r -d 'Private key'
complete -c smime-decrypt -l p12 -r -d 'PKCS#12 file'
complete -c smime-decrypt -l pass-file -r -d 'Passphrase file'
complete -c smime-decrypt -l pass-fd -x -d 'Passphrase file descriptor'
complete -c smime-decrypt -l pass-env -x -d 'Passphrase environment variable'
complete -c smime-decrypt -s h -l help -d 'Show help'
complete -c smime-decrypt -s V -l version -d 'Show version'
