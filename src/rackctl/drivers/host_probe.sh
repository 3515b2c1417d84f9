# rackctl host probe: read-only facts for a drift audit, one SSH session, delimited sections.
# Usage: sh -s -- "IFACE..." "UNIT..." "HEALTH_URL" < host_probe.sh
# Every section starts with "@@rackctl@@ NAME" and ends with "@@rackctl-rc@@ STATUS"; a missing
# tool shows as status 127. POSIX sh only: the probe runs unchanged on Ubuntu, RHEL and the lab.
ifaces=$1
units=$2
health_url=$3
begin() { printf '\n@@rackctl@@ %s\n' "$1"; }
end() { printf '\n@@rackctl-rc@@ %s\n' "$1"; }
run() { name=$1; shift; begin "$name"; "$@" 2>&1; status=$?; end $status; }
have() { command -v "$1" >/dev/null 2>&1; }
# Read one sysfs attribute into a variable without a subprocess ('-' when unreadable).
readf() { eval "$1=-"; { read -r "$1" < "$2"; } 2>/dev/null; }

run kernel uname -r
run hostname hostname
run nvidia-smi-xml nvidia-smi -q -x
# The CSV query only when the XML report failed: each call initialises NVML again (seconds on 8 GPUs).
if [ "$status" -ne 0 ]; then
    run nvidia-smi-csv nvidia-smi --query-gpu=index,name,pci.bus_id,serial,uuid,driver_version --format=csv,noheader
fi
run driver-loaded cat /proc/driver/nvidia/version
run driver-installed modinfo -F version nvidia

begin packages
if have dpkg-query; then
    dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' 'nvidia-fabricmanager*' \
        'datacenter-gpu-manager*' 'cuda-toolkit-*' 2>/dev/null
elif have rpm; then
    rpm -qa --qf 'ii  %{NAME} %{VERSION}-%{RELEASE}\n' 'nvidia-fabric*manager*' 'datacenter-gpu-manager*' \
        'cuda-toolkit-*' 2>/dev/null
fi
end 0

# shellcheck disable=SC2086  # the unit list is meant to split
run units systemctl show --property=Id,LoadState,ActiveState,SubState $units
run dcgm-health dcgmi health -c

begin xid
# Non-root users may not read dmesg (kernel.dmesg_restrict): fall back to the journal.
{ dmesg 2>/dev/null || journalctl -k -b -q --no-pager 2>/dev/null; } | grep -F 'NVRM: Xid' | tail -n 20
end 0

begin sysfs-net
for dir in /sys/class/net/*; do
    [ -e "$dir" ] || continue
    readf mtu "$dir/mtu"; readf oper "$dir/operstate"; readf speed "$dir/speed"
    readf vfs "$dir/device/sriov_numvfs"
    master=
    [ -L "$dir/master" ] && master=$(readlink "$dir/master")
    printf '%s mtu=%s oper=%s speed=%s vfs=%s master=%s\n' "${dir##*/}" "$mtu" "$oper" "$speed" "$vfs" "${master##*/}"
done
end 0

begin bonding
for file in /proc/net/bonding/*; do
    [ -r "$file" ] || continue
    printf '==> %s <==\n' "${file##*/}"
    cat "$file"
done
end 0

for iface in $ifaces; do
    run "ethtool $iface" ethtool "$iface"
done
run lldp lldpctl -f json
if [ -n "$health_url" ]; then
    run serving-health curl -s -o /dev/null -m 3 -w '%{http_code}' "$health_url"
fi
