// Command coredns is CoreDNS with its standard plugin set, pinned in go.mod, serving the local
// node's cluster.local zone.
package main

import (
	_ "github.com/coredns/coredns/core/plugin"
	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
