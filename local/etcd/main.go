// Command etcd runs the etcd server pinned in go.mod, for the local Kubernetes control plane.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
