#!/bin/sh
# netifd protocol "wgpeerselector": netifd starts the Rust wgpeerselector on
# the WireGuard interface the protocol is configured on, restarts it when it
# dies, and stops it when the interface goes down. Gluon's
# gluon-mesh-vpn-wireguard configures the protocol by this name (option
# unix_group: the group that may read the status socket).

. /lib/functions.sh
. ../netifd-proto.sh
init_proto "$@"

proto_wgpeerselector_init_config() {
	proto_config_add_string 'unix_group'
}

proto_wgpeerselector_setup() {
	local cfg="$1" ifname="$2" unix_group

	json_get_vars unix_group

	# Follow the WireGuard device: when it goes away, so does this interface.
	(proto_add_host_dependency "$cfg" '' "$ifname")

	proto_init_update "$ifname" 1
	proto_send_update "$cfg"

	proto_run_command "$cfg" /usr/bin/wgpeerselector \
		--interface "$ifname" ${unix_group:+--group "$unix_group"}
}

proto_wgpeerselector_teardown() {
	proto_kill_command "$1"
}

add_protocol wgpeerselector
