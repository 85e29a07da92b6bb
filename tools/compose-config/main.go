// compose-config loads a Compose file as `docker compose --env-file FILE config` does, without a
// Docker engine: validated against the Compose Specification's JSON schema, interpolated from the
// env file (a `${X:?message}` that is unset fails), checked for consistency (depends_on, volumes,
// networks, secrets that exist), normalized, and printed as JSON. Exit 1 with the loader's message
// when the file is not a valid project; exit 2 on bad usage.
//
//	compose-config --env-file compose.env [--file docker-compose.yml]
//
// Unlike docker compose, the process environment is not read: the output depends on the two files
// alone, so a check of it cannot pass or fail because of the shell it runs in.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	file := flag.String("file", "docker-compose.yml", "the Compose file")
	envFile := flag.String("env-file", "", "the env file that interpolation reads (required)")
	flag.Parse()
	if *envFile == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-config --env-file FILE [--file docker-compose.yml]")
		os.Exit(2)
	}

	dir, err := filepath.Abs(filepath.Dir(*file))
	if err != nil {
		fail(err)
	}
	options, err := cli.NewProjectOptions([]string{*file},
		cli.WithWorkingDirectory(dir),
		cli.WithEnvFiles(*envFile),
		cli.WithDotEnv,
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-config: %v\n", err)
	os.Exit(1)
}
