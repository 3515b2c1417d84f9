#!/bin/sh
# Stand-in for ifupdown2's `ifreload -a` and `ifquery --check -a` on a lab Linux switch (a network
# namespace whose front-panel ports swpN are veth links). It applies what this kernel can hold - each
# port's MTU - and checks it the way `ifquery --check` does. The kernel has no bonding driver, so bond,
# bridge and clag stanzas are read but not built. Ports listed in ifreload.skip beside the file are left
# alone: a rehearsal's way to make a switch accept a configuration and then not run it.
conf="${RACKCTL_ENI:-/usr/local/etc/network/interfaces}"
skip="$(dirname "$conf")/ifreload.skip"
stanzas() {
    awk '$1 == "iface" { name = $2 } $1 == "mtu" && name ~ /^swp/ { print name, $2 }' "$conf"
}
case "$(basename "$0")" in
ifreload)
    stanzas | while read -r port mtu; do
        if ! [ -e "/sys/class/net/$port" ]; then
            echo "error: $port: no such port on this switch" >&2
            exit 1
        fi
        if [ -f "$skip" ] && grep -qx "$port" "$skip"; then
            continue
        fi
        ip link set "$port" mtu "$mtu" || exit 1
    done
    ;;
ifquery)
    bad=0
    for line in $(stanzas | tr ' ' ':'); do
        port="${line%%:*}" mtu="${line#*:}"
        have="$(cat "/sys/class/net/$port/mtu" 2>/dev/null || echo missing)"
        if [ "$have" != "$mtu" ]; then
            echo "$port: mtu is $have, the configuration says $mtu"
            bad=1
        fi
    done
    exit "$bad"
    ;;
esac
