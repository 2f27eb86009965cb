#!/usr/bin/env bash
# kube-cluster.sh up|down|status|load IMAGE... — a real one-node Kubernetes
# cluster on this machine, for the end-to-end test of docs/kubernetes.md
# (make kube-e2e). Needs root.
#
#   up      builds what is missing (scripts/kube-bins.sh with
#           KUBE_BINS_CLUSTER=1, scripts/kube-images.sh), then starts
#           containerd, etcd, kube-apiserver, kube-controller-manager,
#           kube-scheduler, kubelet and kube-proxy, waits for the node to be
#           Ready, for the cluster DNS (CoreDNS) to answer and for
#           metrics-server to serve metrics.k8s.io (kubectl top, the HPA). A cluster left
#           by an earlier run is taken down first. The last line printed is
#           the `export KUBECONFIG=...` to use.
#   down    stops every process `up` started, deletes the pods' network
#           namespaces, mounts, iptables chains, the CNI bridge, the
#           kubepods cgroups and the state directory; the logs go to
#           .cache/kube/cluster-logs. Safe to run when nothing is up.
#   status  says whether the cluster is up.
#   load    copies images from podman into the cluster's containerd
#           (podman save | ctr -n k8s.io images import), e.g.
#           `scripts/kube-cluster.sh load horde:latest`.
#
# Nothing can leave the machine: pods get addresses in 198.18.0.0/16 and
# Services in 198.19.0.0/16 (benchmarking ranges, RFC 2544), the bridge does
# no masquerading, and the cluster DNS serves cluster.local only, with no
# upstream. Packages from Debian: containerd, runc, containernetworking-plugins,
# conntrack, iptables, podman (.ci/run installs them).
#
# Environment: KUBE_BIN (default .cache/kube/bin), KUBE_IMAGES (default
# .cache/kube/images), KUBE_CLUSTER_DIR (state, default /var/lib/horde-kube),
# KUBE_CLUSTER_LOGS (default .cache/kube/cluster-logs).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
bin=${KUBE_BIN:-$root/.cache/kube/bin}
dir=${KUBE_CLUSTER_DIR:-/var/lib/horde-kube}
run=/run/horde-kube
logs_keep=${KUBE_CLUSTER_LOGS:-$root/.cache/kube/cluster-logs}
images=${KUBE_IMAGES:-$root/.cache/kube/images}
sock=$run/containerd.sock
kubeconfig=$dir/admin.kubeconfig

pod_cidr=198.18.0.0/16
pod_gw=198.18.0.1
svc_cidr=198.19.0.0/16
svc_api=198.19.0.1
svc_dns=198.19.0.10
bridge=hordekube0
node=horde-kube
etcd_port=23790
api_port=6443
# Made at fixed paths by containerd's shims, the kubelet and libcni,
# whatever their configuration says.
fixed_dirs=(/run/containerd /var/lib/kubelet /var/lib/cni /run/netns)
# The order processes are stopped in is the reverse of this.
components=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

say() { echo "kube-cluster: $*"; }
die() {
	echo "kube-cluster: $*" >&2
	exit 1
}

kubectl() { "$bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }
ctr() { command ctr --address "$sock" "$@"; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.5 s.
wait_for() {
	local what=$1 secs=$2 start=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - start >= secs)); then
			say "timed out after ${secs}s waiting for $what"
			return 1
		fi
		sleep 0.5
	done
}

alive() { [[ -f $dir/pids/$1 ]] && kill -0 "$(<"$dir/pids/$1")" 2>/dev/null; }

# start NAME COMMAND...: runs COMMAND in the background, logging to
# $dir/logs/NAME.log, its pid in $dir/pids/NAME.
start() {
	local name=$1
	shift
	setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$dir/pids/$name"
}

check_prereqs() {
	[[ $(id -u) == 0 ]] || die "needs root (containerd, iptables, mounts)"
	local missing=()
	for c in containerd runc ctr iptables ip6tables conntrack podman openssl ip; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
	[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] ||
		missing+=(containernetworking-plugins)
	((${#missing[@]} == 0)) || die "missing: ${missing[*]} (apt-get install containerd runc containernetworking-plugins conntrack iptables podman iproute2 openssl)"
}

node_ip() {
	# The address of the default route's interface: the node's InternalIP,
	# which the apiserver advertises and reaches the kubelet at. Traffic to
	# it is delivered locally.
	local ip
	ip=$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "src") {print $(i + 1); exit}}')
	[[ -n $ip ]] || ip=$(ip -4 -o addr show scope global | awk '{sub("/.*", "", $4); print $4; exit}')
	[[ -n $ip ]] || die "no IPv4 address on any interface for the node"
	echo "$ip"
}

pki() {
	local p=$dir/pki ip=$1
	mkdir -p "$p"
	(
		cd "$p"
		openssl genrsa -out ca.key 2048 2>/dev/null
		openssl req -x509 -new -key ca.key -subj /CN=horde-kube-ca -days 30 -out ca.crt 2>/dev/null
		cert() { # NAME SUBJECT [SANS]
			openssl genrsa -out "$1.key" 2048 2>/dev/null
			openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
			local ext="keyUsage=critical,digitalSignature,keyEncipherment"
			if [[ -n ${3:-} ]]; then
				printf '%s\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$ext" "$3" >"$1.ext"
			else
				printf '%s\nextendedKeyUsage=clientAuth\n' "$ext" >"$1.ext"
			fi
			openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
				-extfile "$1.ext" -out "$1.crt" 2>/dev/null
		}
		cert apiserver /CN=kube-apiserver \
			"DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$svc_api,IP:$ip"
		cert admin "/O=system:masters/CN=horde-kube-admin"
		# The API server's identity towards aggregated APIs (metrics-server).
		cert front-proxy-client /CN=front-proxy-client
		openssl genrsa -out sa.key 2048 2>/dev/null
		openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
	)
	cat >"$kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: horde-kube
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority: $p/ca.crt
users:
  - name: admin
    user:
      client-certificate: $p/admin.crt
      client-key: $p/admin.key
contexts:
  - name: horde-kube
    context: {cluster: horde-kube, user: admin, namespace: default}
current-context: horde-kube
EOF
}

write_configs() {
	mkdir -p "$dir/cni/net.d" "$dir/cni/ipam" "$dir/containerd" "$run/containerd"
	cat >"$dir/containerd.toml" <<EOF
version = 2
root = "$dir/containerd"
state = "$run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:3.10"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails
  # ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$run/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
EOF
	# A bridge with the gateway on the host and no masquerading: pods reach
	# each other, Services and the node's address (the kubelet, for
	# metrics-server), and have no default route: nothing beyond the machine.
	cat >"$dir/cni/net.d/10-horde-kube.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "horde-kube",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/cni/ipam",
        "ranges": [[{"subnet": "$pod_cidr", "gateway": "$pod_gw"}]],
        "routes": [{"dst": "$pod_cidr"}, {"dst": "$svc_cidr"}, {"dst": "$1/32"}]
      }
    }
  ]
}
EOF
	# Pods with dnsPolicy Default (CoreDNS) get no upstream resolver.
	: >"$dir/resolv.conf"
	cat >"$dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$sock
clusterDNS: [$svc_dns]
clusterDomain: cluster.local
resolvConf: $dir/resolv.conf
podLogsDir: $dir/pod-logs
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
# Webhook authentication and authorization: kubectl logs, exec and
# port-forward go through the apiserver to the kubelet.
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization:
  mode: Webhook
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
	cat >"$dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $pod_cidr
hostnameOverride: $node
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clientConnection:
  kubeconfig: $kubeconfig
conntrack:
  maxPerCore: 0
EOF
}

net_setup() {
	# Restored by down.
	sysctl -n net.ipv4.ip_forward >"$dir/ip_forward-before"
	sysctl -qw net.ipv4.ip_forward=1
	if [[ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
		command -v modprobe >/dev/null && modprobe br_netfilter || true
	fi
	[[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] ||
		die "no br_netfilter (modprobe br_netfilter): Services would not work between pods on the bridge"
	sysctl -qw net.bridge.bridge-nf-call-iptables=1
}

up() {
	check_prereqs
	if [[ -d $dir || -d $run ]]; then
		say "taking down the cluster of an earlier run first"
		down
	fi
	KUBE_BINS_CLUSTER=1 "$root/scripts/kube-bins.sh" "$bin" | grep -v '^export' || die "kube-bins.sh failed"
	"$root/scripts/kube-images.sh" "$images"
	local t0=$SECONDS ip
	ip=$(node_ip)
	say "starting a one-node cluster in $dir (node $node at $ip; pods $pod_cidr, Services $svc_cidr)"
	mkdir -p "$dir/logs" "$dir/pids" "$dir/pod-logs" "$run"
	# Network namespaces that exist now are not ours (down leaves them).
	ls /run/netns 2>/dev/null >"$dir/netns-before" || : >"$dir/netns-before"
	# Directories the runtime and the kubelet create at fixed places (the
	# shims' sockets, the kubelet's device-plugin socket, the CNI cache):
	# down removes those that did not exist before.
	local p
	: >"$dir/created"
	for p in "${fixed_dirs[@]}"; do
		[[ -e $p ]] || echo "$p" >>"$dir/created"
	done
	net_setup
	pki "$ip"
	write_configs "$ip"

	start containerd containerd --config "$dir/containerd.toml"
	wait_for containerd 30 ctr version
	load_tar "$images/pause.tar" "$images/coredns.tar" "$images/busybox.tar" "$images/metrics-server.tar"

	start etcd "$bin/etcd" --name horde-kube --data-dir "$dir/etcd" \
		--listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
		--listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
		--initial-cluster horde-kube=http://127.0.0.1:23800 --unsafe-no-fsync --log-level warn
	local p=$dir/pki
	start kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
		--bind-address 0.0.0.0 --secure-port "$api_port" --advertise-address "$ip" \
		--tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" \
		--client-ca-file "$p/ca.crt" --authorization-mode Node,RBAC \
		--kubelet-client-certificate "$p/admin.crt" --kubelet-client-key "$p/admin.key" \
		--kubelet-preferred-address-types InternalIP,Hostname \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$p/sa.pub" --service-account-signing-key-file "$p/sa.key" \
		--service-cluster-ip-range "$svc_cidr" --allow-privileged=true \
		--requestheader-client-ca-file "$p/ca.crt" --requestheader-allowed-names front-proxy-client \
		--requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
		--requestheader-extra-headers-prefix X-Remote-Extra- \
		--proxy-client-cert-file "$p/front-proxy-client.crt" --proxy-client-key-file "$p/front-proxy-client.key" \
		--enable-aggregator-routing=true --profiling=false
	wait_for "kube-apiserver /readyz" 90 kubectl get --raw /readyz
	start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$kubeconfig" \
		--authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
		--bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
		--root-ca-file "$p/ca.crt" --service-account-private-key-file "$p/sa.key" \
		--cluster-signing-cert-file "$p/ca.crt" --cluster-signing-key-file "$p/ca.key" \
		--service-cluster-ip-range "$svc_cidr" --profiling=false
	start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$kubeconfig" \
		--authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
		--bind-address 127.0.0.1 --leader-elect=false --profiling=false
	start kubelet "$bin/kubelet" --config "$dir/kubelet.yaml" --kubeconfig "$kubeconfig" \
		--root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki" \
		--hostname-override "$node" --node-ip "$ip"
	start kube-proxy "$bin/kube-proxy" --config "$dir/kube-proxy.yaml"
	wait_for "node $node Ready" 120 kubectl wait --for=condition=Ready "node/$node" --timeout=2s
	say "node Ready $((SECONDS - t0))s after start"
	# The default ServiceAccount must exist before pods are created in a
	# namespace (the controller-manager makes it).
	wait_for "ServiceAccount default" 60 kubectl -n default get serviceaccount default
	coredns
	metrics_server
	say "cluster up in $((SECONDS - t0))s; pods Ready: $(kubectl get pods -A --no-headers | wc -l)"
	echo "export KUBECONFIG=$kubeconfig"
}

coredns() {
	sed -e "s/@DNS_IP@/$svc_dns/" "$root/tools/kube/cluster/coredns.yaml" | kubectl apply -f - >/dev/null
	if ! kubectl -n kube-system rollout status deployment/coredns --timeout=120s; then
		kubectl -n kube-system describe pods -l k8s-app=kube-dns | tail -30
		die "CoreDNS did not become ready"
	fi
}

metrics_server() {
	kubectl apply -f "$root/tools/kube/cluster/metrics-server.yaml" >/dev/null
	if ! kubectl -n kube-system rollout status deployment/metrics-server --timeout=120s ||
		! kubectl wait --for=condition=Available apiservice/v1beta1.metrics.k8s.io --timeout=60s; then
		kubectl -n kube-system logs deployment/metrics-server --tail=30 || true
		die "metrics-server did not become available"
	fi
}

# load_tar FILE...: imports image archives into the k8s.io namespace.
load_tar() {
	local f
	for f in "$@"; do
		[[ -f $f ]] || die "no image archive $f (scripts/kube-images.sh)"
		ctr -n k8s.io images import --all-platforms "$f" >/dev/null
	done
}

load() {
	[[ -S $sock ]] || die "the cluster is not up (scripts/kube-cluster.sh up)"
	local img tmp
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	for img in "$@"; do
		podman image exists "$img" || die "podman has no image $img (make image)"
		podman save -q -o "$tmp/img.tar" "$img" >/dev/null
		ctr -n k8s.io images import "$tmp/img.tar" >/dev/null
		# podman names a local image localhost/NAME; image: NAME in a pod
		# means docker.io/library/NAME. Tag both.
		local ref=$img name
		[[ $ref == */* ]] || ref=localhost/$ref
		[[ $ref == *:* ]] || ref=$ref:latest
		name=${ref#localhost/}
		if [[ $ref == localhost/* && $name != */* ]]; then
			ctr -n k8s.io images tag --force "$ref" "docker.io/library/$name" >/dev/null
		fi
		rm -f "$tmp/img.tar"
		say "loaded $img"
	done
}

# Processes whose command line names this cluster's socket or state
# directory: the containerd shims and whatever survived its parent.
ours() {
	local pid cmd
	for pid in $(ls /proc | grep -E '^[0-9]+$'); do
		[[ $pid == "$$" ]] && continue
		cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || continue
		case $cmd in
		*containerd-shim*"$sock"* | *"$bin/"kube* | *"$bin/etcd"* | *"containerd --config $dir/"*) echo "$pid" ;;
		esac
	done
}

stop_pods() {
	# The kubelet tears pods down through the runtime (CNI DEL: veth,
	# address, netns); give it a moment while the control plane runs.
	alive kube-apiserver && alive kubelet || return 0
	kubectl delete deployments,replicasets,jobs,daemonsets,statefulsets --all -A --wait=false >/dev/null 2>&1 || true
	kubectl delete pods --all -A --grace-period=1 --wait=false >/dev/null 2>&1 || true
	wait_for "pods to stop" 30 no_sandboxes || true
}

no_sandboxes() {
	[[ -z $(ctr -n k8s.io tasks ls -q 2>/dev/null) ]]
}

down() {
	[[ $(id -u) == 0 ]] || die "needs root"
	[[ -d $dir || -d $run ]] || {
		say "nothing to take down"
		return 0
	}
	stop_pods
	# Remove what the runtime still holds while containerd runs.
	if alive containerd; then
		local c
		for c in $(ctr -n k8s.io tasks ls -q 2>/dev/null); do ctr -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true; done
	fi
	local i name pid
	for ((i = ${#components[@]} - 1; i >= 0; i--)); do
		name=${components[i]}
		alive "$name" && kill -TERM "$(<"$dir/pids/$name")" 2>/dev/null || true
	done
	local t=$SECONDS
	while [[ -n $(ours) ]] && ((SECONDS - t < 15)); do sleep 0.5; done
	for pid in $(ours); do kill -KILL "$pid" 2>/dev/null || true; done
	sleep 0.5
	# kube-proxy's and the kubelet's iptables chains (KUBE-*), CNI's (CNI-*).
	[[ -x $bin/kube-proxy ]] && "$bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
	iptables_clean
	ip link del "$bridge" 2>/dev/null || true
	# Network namespaces the runtime made.
	local ns
	for ns in $(ls /run/netns 2>/dev/null); do
		[[ $ns == cni-* ]] || continue
		grep -qxF "$ns" "$dir/netns-before" 2>/dev/null && continue
		umount "/run/netns/$ns" 2>/dev/null || umount -l "/run/netns/$ns" 2>/dev/null || true
		rm -f "/run/netns/$ns"
	done
	unmount_under "$dir" "$run"
	# libcni's cache of this network's results (named after it).
	rm -f /var/lib/cni/results/horde-kube-* 2>/dev/null || true
	local p
	if [[ -f $dir/created ]]; then
		while read -r p; do
			case $p in
			/run/containerd | /var/lib/kubelet | /var/lib/cni) rm -rf "$p" ;;
			/run/netns) rmdir "$p" 2>/dev/null || true ;; # others' namespaces may be there now
			esac
		done <"$dir/created"
	fi
	[[ -f $dir/ip_forward-before ]] && sysctl -qw "net.ipv4.ip_forward=$(<"$dir/ip_forward-before")" || true
	cgroups_clean
	# Keep the logs for a look after a failed run.
	if [[ -d $dir/logs ]]; then
		rm -rf "$logs_keep"
		mkdir -p "$(dirname "$logs_keep")"
		cp -r "$dir/logs" "$logs_keep" 2>/dev/null || true
	fi
	rm -rf "$dir" "$run"
	say "down (logs in $logs_keep)"
}

unmount_under() {
	local d m
	for d in "$@"; do
		# Deepest first; mountinfo escapes spaces as \040.
		for m in $(awk -v d="$d" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r); do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
	done
}

iptables_clean() {
	local ipt t line chain
	for ipt in iptables ip6tables; do
		command -v "$ipt-save" >/dev/null || continue
		for t in filter nat mangle; do
			# Rules of other chains that jump into ours, then our chains.
			"$ipt-save" -t "$t" 2>/dev/null | grep -E '^-A ' | grep -E -- '-j (KUBE-|CNI-)' |
				grep -Ev '^-A (KUBE-|CNI-)' | while read -r line; do
				eval "$ipt -t $t -D ${line#-A }" 2>/dev/null || true
			done || true
			for chain in $("$ipt-save" -t "$t" 2>/dev/null | sed -n 's/^:\(\(KUBE-\|CNI-\)[^ ]*\) .*/\1/p'); do
				"$ipt" -t "$t" -F "$chain" 2>/dev/null || true
			done
			for chain in $("$ipt-save" -t "$t" 2>/dev/null | sed -n 's/^:\(\(KUBE-\|CNI-\)[^ ]*\) .*/\1/p'); do
				"$ipt" -t "$t" -X "$chain" 2>/dev/null || true
			done
		done
	done
}

cgroups_clean() {
	# The kubelet's cgroupfs hierarchy, in every controller: first any
	# container process still in it (its shim was killed before it), then
	# the groups (rmdir only removes empty ones).
	local d pid
	for pid in $(cat /sys/fs/cgroup/*/kubepods/cgroup.procs /sys/fs/cgroup/*/kubepods/*/cgroup.procs \
		/sys/fs/cgroup/*/kubepods/*/*/cgroup.procs /sys/fs/cgroup/*/kubepods/*/*/*/cgroup.procs 2>/dev/null | sort -u); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	sleep 0.2
	for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
		[[ -d $d ]] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

status() {
	local c up=0
	for c in "${components[@]}"; do
		if alive "$c"; then
			echo "$c: running (pid $(<"$dir/pids/$c"))"
			up=$((up + 1))
		else
			echo "$c: not running"
		fi
	done
	((up == ${#components[@]})) && kubectl get nodes && echo "export KUBECONFIG=$kubeconfig"
	((up == ${#components[@]}))
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
load)
	shift
	load "$@"
	;;
*)
	sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
