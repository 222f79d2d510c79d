#!/bin/sh
# /init of the kernel TLS VM: modules, network (QEMU user networking: the host is 10.0.2.2),
# then the proxy in the foreground with its log on the console. Power off when it exits.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
depmod
modprobe e1000
modprobe tls && echo "ktls-vm: tls module loaded"
echo "ktls-vm: kernel $(uname -r), tcp_available_ulp: $(cat /proc/sys/net/ipv4/tcp_available_ulp)"
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo "ktls-vm: starting the proxy"
/proxy/mariadb-tls-proxy --defaults-file=/proxy/proxy.cnf
echo "ktls-vm: the proxy exited with status $?"
poweroff -f
