# The host settings a real node changes (the kubelet and kube-proxy set them at start); up.sh
# records them before, down.sh puts them back.
SYSCTLS="kernel/panic kernel/panic_on_oops vm/overcommit_memory net/ipv4/ip_forward
net/ipv4/conf/all/route_localnet net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables
net/netfilter/nf_conntrack_max net/netfilter/nf_conntrack_tcp_timeout_established
net/netfilter/nf_conntrack_tcp_timeout_close_wait net/ipv4/conf/all/forwarding
net/ipv6/conf/all/forwarding"

# key=value per line; NA for a setting this kernel does not have.
record_sysctls() {
  local k
  for k in $SYSCTLS; do
    if [ -r "/proc/sys/$k" ]; then echo "$k=$(cat "/proc/sys/$k")"; else echo "$k=NA"; fi
  done
}
