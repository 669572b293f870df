// hyperkube: the local cluster's Kubernetes daemons as one multi-call binary, so a cold build links once
// instead of five times. build.sh compiles it inside a throw-away module that requires k8s.io/kubernetes
// (scripts/cluster/README.md) and hard-links each daemon's name to it.
//
// It runs the daemon named by argv[0] (`kube-apiserver --version`, through its link) or by its first
// argument (`hyperkube kubelet --version`). Each entry is what that daemon's own main() does in
// k8s.io/kubernetes/cmd/<name>; the blank imports below are the ones all five mains make.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	_ "time/tzdata" // CronJob time zones (kube-apiserver, kube-controller-manager)

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

// each runs its daemon and returns the process's exit code
var daemons = map[string]func() int{
	"kube-apiserver":          func() int { return cli.Run(apiserver.NewAPIServerCommand()) },
	"kube-controller-manager": func() int { return cli.Run(controllermanager.NewControllerManagerCommand()) },
	"kube-scheduler":          func() int { return cli.Run(scheduler.NewSchedulerCommand()) },
	"kubelet":                 func() int { return cli.Run(kubelet.NewKubeletCommand(context.Background())) },
	"kube-proxy":              func() int { return cli.Run(proxy.NewProxyCommand()) },
}

func main() {
	name := filepath.Base(os.Args[0])
	if _, ok := daemons[name]; !ok && len(os.Args) > 1 {
		// `hyperkube NAME ARGS…`: run NAME as if started under its own name
		name = os.Args[1]
		os.Args = os.Args[1:]
	}
	run, ok := daemons[name]
	if !ok {
		names := make([]string, 0, len(daemons))
		for n := range daemons {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: hyperkube DAEMON [ARGS...], or run it through a link named after one of %v\n", names)
		os.Exit(2)
	}
	os.Exit(run())
}
