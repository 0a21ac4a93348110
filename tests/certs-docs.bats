#!/usr/bin/env bats
# Issue 13's documentation: the new man pages lint clean; every option of smime-certs, and of
# the tools issue 13 added options to, is in the man page and the bash, zsh and fish
# completions; the completions work.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

# The long options a tool's --help lists on its option lines (the option column: the text
# before the first run of two spaces).
options() {
	"$1" --help | grep -E '^ +-' | sed -E 's/^ +//' | awk -F '  +' '{print $1}' \
		| grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

@test "docs: smime-certs(1) and secmail-certstore(5) are mandoc -Tlint clean" {
	run mandoc -Tlint -W warning "$TOP/man/smime-certs.1" "$TOP/man/secmail-certstore.5"
	assert_success
	assert_output ""
}

@test "docs: every option is in the man page and the bash, zsh and fish completions" {
	local t o n missing=
	for t in smime-certs smime-sign smime-verify smime-encrypt; do
		for o in $(options $t); do
			n=${o#--}
			grep -q -- "Fl Fl $n" "$TOP/man/$t.1" || missing="$missing $t.1:$o"
			grep -q -- "$o" "$TOP/completions/bash/$t" || missing="$missing bash/$t:$o"
			grep -q -- "$o" "$TOP/completions/zsh/_$t" || missing="$missing zsh/_$t:$o"
			grep -qE -- "-l $n( |\$)" "$TOP/completions/fish/$t.fish" || missing="$missing fish/$t:$o"
		done
	done
	[ -z "$missing" ] || { echo "missing:$missing"; return 1; }
	# the check sees the options issue 13 added
	options smime-verify | grep -qx -- --revocation
	options smime-sign | grep -qx -- --capabilities
	options smime-encrypt | grep -qx -- --no-fetch
	options smime-certs | grep -qx -- --fingerprint
}

@test "docs: the smime-certs completions offer commands, options and stored addresses" {
	smime_store=$XDG_DATA_HOME/secmail/certs
	mkdir -p -m 700 "$XDG_DATA_HOME/secmail" "$smime_store"
	"$TOP/tests/helpers/pki" "$T/pki" >/dev/null
	smime-certs pin "$T/pki/bob.pem" >/dev/null
	run bash -c "source /usr/share/bash-completion/bash_completion 2>/dev/null; source '$TOP/completions/bash/smime-certs' && COMP_WORDS=(smime-certs ex) COMP_CWORD=1 && _smime_certs && echo \"\${COMPREPLY[@]}\""
	assert_output "export expiring"
	run bash -c "source '$TOP/completions/bash/smime-certs' && COMP_WORDS=(smime-certs show b) COMP_CWORD=2 && _smime_certs && echo \"\${COMPREPLY[@]}\""
	assert_output "bob@example.org"
	run bash -c "source '$TOP/completions/bash/smime-certs' && COMP_WORDS=(smime-certs --fin) COMP_CWORD=1 && _smime_certs && echo \"\${COMPREPLY[@]}\""
	assert_output -- "--fingerprint"
	run zsh -n "$TOP/completions/zsh/_smime-certs"
	assert_success
	run zsh -c "fpath=('$TOP/completions/zsh' \$fpath); autoload -U compinit; compinit -u -D; print \$_comps[smime-certs]"
	assert_output "_smime-certs"
	run fish -c "source '$TOP/completions/fish/smime-certs.fish'; complete -C'smime-certs exp'"
	assert_output --partial "export"
	assert_output --partial "expiring"
	run fish -c "source '$TOP/completions/fish/smime-certs.fish'; complete -C'smime-certs remove '"
	assert_output --partial "bob@example.org"
	run fish -c "source '$TOP/completions/fish/smime-sign.fish'; complete -C'smime-sign --capabilities '"
	assert_output --partial "neomutt"
}
