// Command argocd is the one binary of the real-Argo CD test tier: the application-controller, the
// repo-server, the git-ask-pass helper, kustomize and an in-memory Redis, chosen by the name it is
// started under. scripts/build-argocd.sh builds it into .cache/bin/argocd and links the names
// below to it.
//
// The name comes from argv[0] first and only then from ARGOCD_BINARY_NAME. The repo-server runs
// git with ARGOCD_BINARY_NAME=argocd-git-ask-pass and GIT_ASKPASS=argocd, and its children (git,
// then kustomize) inherit whatever it was started with: reading the variable first would make the
// kustomize it runs start another repo-server.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/alicebob/miniredis/v2"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
	kustomize "sigs.k8s.io/kustomize/kustomize/v5/commands"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/util/log"
)

// The names this binary answers to.
var commands = map[string]func() int{
	"argocd-application-controller": func() int { return runCobra(appcontroller.NewCommand()) },
	"argocd-repo-server":            func() int { return runCobra(reposerver.NewCommand()) },
	"argocd-git-ask-pass":           func() int { return runCobra(quiet(gitaskpass.NewCommand())) },
	"kustomize":                     func() int { return runCobra(kustomize.NewDefaultCommand()) },
	"argocd-redis":                  runRedis,
}

func main() {
	name := filepath.Base(os.Args[0])
	if _, ok := commands[name]; !ok {
		name = os.Getenv("ARGOCD_BINARY_NAME")
	}
	run, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "argocd: started as %q; start it as one of %s (a link of that name, or ARGOCD_BINARY_NAME)\n",
			filepath.Base(os.Args[0]), strings.Join(names(), ", "))
		os.Exit(2)
	}
	if name != "kustomize" {
		// klog (client-go) writes through Argo CD's logrus set-up, as in Argo CD's own binary
		klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
	}
	os.Exit(run())
}

func names() []string {
	out := make([]string, 0, len(commands))
	for n := range commands {
		out = append(out, n)
	}
	return out
}

func quiet(c *cobra.Command) *cobra.Command {
	c.SilenceErrors = true
	c.SilenceUsage = true
	return c
}

func runCobra(c *cobra.Command) int {
	if err := c.Execute(); err != nil {
		if c.SilenceErrors {
			fmt.Fprintln(os.Stderr, err)
		}
		return 1
	}
	return 0
}

// runRedis serves an in-memory Redis (miniredis) on --addr until SIGTERM or SIGINT: Argo CD
// keeps its caches in Redis and has no in-process fallback.
func runRedis() int {
	fs := flag.NewFlagSet("argocd-redis", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:6379", "address to listen on")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr(*addr); err != nil {
		fmt.Fprintf(os.Stderr, "argocd-redis: %v\n", err)
		return 1
	}
	fmt.Printf("argocd-redis: listening on %s\n", srv.Addr())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	srv.Close()
	return 0
}
