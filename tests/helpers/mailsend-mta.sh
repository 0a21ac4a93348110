#!/bin/sh
# mailsend-mta.sh start DIR PORT PKI | stop DIR — a private Postfix instance on 127.0.0.1:PORT
# with STARTTLS (certificate PKI/server.pem) and Cyrus SASL AUTH PLAIN/LOGIN for
# alice@example.org / password "wonderland", delivering every address of example.org to a
# Maildir per user under DIR/Maildir/USER/. Installs nothing (see scripts/deps.d/mailsend);
# must run as root. Postfix requires the instance to be listed in /etc/postfix/main.cf
# (alternate_config_directories): this adds DIR/conf there on start and removes it on stop.
set -eu
umask 022	# Postfix (its own users) reads the queue and configuration made here
cmd=$1 d=$2
conf=$d/conf
main=/etc/postfix/main.cf

unlist() {
	[ -f "$main" ] || return 0
	grep -v "^alternate_config_directories = $conf\$" "$main" >"$main.tmp.$$" || true
	mv "$main.tmp.$$" "$main"
}

case $cmd in
stop)
	postfix -c "$conf" stop >/dev/null 2>&1 || true
	# postfix stop returns before the master has exited; wait for it
	for _ in $(seq 50); do
		[ -f "$d/spool/pid/master.pid" ] && kill -0 "$(tr -d ' ' <"$d/spool/pid/master.pid")" 2>/dev/null || break
		sleep 0.1
	done
	unlist
	exit 0
	;;
start) ;;
*) echo "usage: $0 start DIR PORT PKI | stop DIR" >&2; exit 64 ;;
esac

port=$3 pki=$4
[ "$(id -u)" = 0 ] || { echo "mailsend-mta.sh: must run as root" >&2; exit 77; }
command -v postfix >/dev/null || { echo "mailsend-mta.sh: postfix is not installed" >&2; exit 69; }
mkdir -p "$conf" "$d/spool" "$d/data" "$d/Maildir" "$d/sasl"
chown postfix "$d/data" "$d/Maildir"
chmod 755 "$d"
cp "$pki/server.pem" "$pki/server.key" "$conf/"
uid=$(id -u postfix) gid=$(id -g postfix)

# The submission service on PORT, not chrooted (the instance lives in a temp dir).
sed -e "s/^smtp \( *\)inet\( *\)n\( *\)-\( *\)y/$port\1inet\2n\3-\4n/" /etc/postfix/master.cf >"$conf/master.cf"
grep -q "^$port " "$conf/master.cf" || { echo "mailsend-mta.sh: cannot edit master.cf" >&2; exit 70; }

printf 'alice@example.org alice/\nbob@example.org bob/\ncarol@example.org carol/\n' >"$conf/vmailbox"
cat >"$conf/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mta.example.org
mydestination =
mynetworks =
virtual_mailbox_domains = example.org
virtual_mailbox_base = $d/Maildir
virtual_mailbox_maps = texthash:$conf/vmailbox
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
smtpd_tls_cert_file = $conf/server.pem
smtpd_tls_key_file = $conf/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $d/sasl
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtputf8_enable = yes
maillog_file = $d/maillog
maillog_file_prefixes = $d, /tmp, /var
message_size_limit = 10240000
biff = no
EOC
cat >"$d/sasl/smtpd.conf" <<EOC
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: /etc/sasldb2
EOC
# The notes record that sasldb_path was ignored here: the user goes into /etc/sasldb2.
echo wonderland | saslpasswd2 -p -c -u mta.example.org alice
chgrp postfix /etc/sasldb2
chmod 640 /etc/sasldb2

[ -f "$main" ] || : >"$main"
grep -q "^alternate_config_directories = $conf\$" "$main" || echo "alternate_config_directories = $conf" >>"$main"
if ! postfix -c "$conf" start >"$d/start.log" 2>&1; then
	cat "$d/start.log" "$d/maillog" >&2 2>/dev/null
	unlist
	exit 1
fi
# Ready when the port answers.
for _ in $(seq 100); do
	if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; then
		exit 0
	fi
	sleep 0.1
done
echo "mailsend-mta.sh: postfix did not listen on $port" >&2
cat "$d/maillog" >&2 2>/dev/null
exit 1
