// dfcheck — static checks of the repository's Dockerfiles with BuildKit's own
// code, for machines without a Docker engine (tests/ops/validate_containers.sh).
//
//	dfcheck lint    -f FILE [--build-arg K=V]...   BuildKit's Dockerfile linter and LLB conversion
//	                                             (what `docker build --check` runs), every stage
//	dfcheck stages  -f FILE [--build-arg K=V]...   each stage's base image after ARG expansion
//	dfcheck context -C DIR -f FILE [-export DIR]   the build context after DIR/.dockerignore, and
//	                                             whether every COPY/ADD source of the Dockerfile is in it
//
// Without an engine there is no registry either: base images are answered by
// stubImages below (the environment the real images declare that the
// Dockerfiles rely on).  A base image not listed there is an error, so a new
// base image needs an entry here first.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
)

type stub struct {
	env        []string
	entrypoint []string
	cmd        []string
	workdir    string
}

const debianPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// stubImages: repository (normalized, without tag) -> declared environment.
// Tags are checked separately (validate_containers.sh); any tag is accepted here.
func stubFor(ref string) (*stub, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, err
	}
	tag := ""
	if t, ok := named.(reference.Tagged); ok {
		tag = t.Tag()
	}
	switch reference.FamiliarName(named) {
	case "postgres":
		major := strings.SplitN(tag, "-", 2)[0]
		major = strings.SplitN(major, ".", 2)[0]
		return &stub{env: []string{
			debianPath + ":/usr/lib/postgresql/" + major + "/bin",
			"GOSU_VERSION=1.17", "LANG=en_US.utf8", "PG_MAJOR=" + major,
			"PG_VERSION=" + major + ".0-1.pgdg120+1", "PGDATA=/var/lib/postgresql/data",
		}, entrypoint: []string{"docker-entrypoint.sh"}, cmd: []string{"postgres"}}, nil
	case "debian":
		return &stub{env: []string{debianPath}, cmd: []string{"bash"}}, nil
	case "python":
		return &stub{env: []string{"PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
			"LANG=C.UTF-8", "PYTHON_VERSION=3.11.0"}, cmd: []string{"python3"}}, nil
	case "public.ecr.aws/amazonlinux/amazonlinux":
		return &stub{env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			cmd: []string{"/bin/bash"}}, nil
	case "public.ecr.aws/lambda/provided":
		return &stub{env: []string{"LANG=en_US.UTF-8", "TZ=:/etc/localtime",
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
			"LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime"},
			entrypoint: []string{"/lambda-entrypoint.sh"}, workdir: "/var/task"}, nil
	}
	return nil, fmt.Errorf("dfcheck has no stub for base image %q: add it to stubFor", ref)
}

type stubResolver struct{ seen []string }

func (r *stubResolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	s, err := stubFor(ref)
	if err != nil {
		return "", "", nil, err
	}
	r.seen = append(r.seen, ref)
	img := ocispecs.Image{
		Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispecs.ImageConfig{Env: s.env, Entrypoint: s.entrypoint, Cmd: s.cmd,
			WorkingDir: s.workdir},
		// one non-empty layer, so the base is not treated as scratch
		RootFS: ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(ref)}},
	}
	dt, err := json.Marshal(img)
	if err != nil {
		return "", "", nil, err
	}
	return ref, digest.FromBytes(dt), dt, nil
}

type argList map[string]string

func (a argList) String() string { return fmt.Sprint(map[string]string(a)) }
func (a argList) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("--build-arg wants K=V, got %q", v)
	}
	a[k] = val
	return nil
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "dfcheck: "+format+"\n", args...)
	os.Exit(2)
}

func cmdLint(file string, args argList) int {
	dt, err := os.ReadFile(file)
	if err != nil {
		die("%v", err)
	}
	res := &stubResolver{}
	// as dockerui does: the Dockerfile is a file in a local source
	src := llb.Local("dockerfile")
	def, err := src.Marshal(context.Background())
	if err != nil {
		die("%v", err)
	}
	sm := llb.NewSourceMap(&src, file, "Dockerfile", dt)
	sm.Definition = def
	results, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		Config:         dockerui.Config{BuildArgs: args},
		SourceMap:      sm,
		MetaResolver:   res,
		TargetPlatform: &ocispecs.Platform{OS: "linux", Architecture: "amd64"},
	})
	if err != nil {
		die("%s: %v", file, err)
	}
	bad := 0
	for _, w := range results.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		fmt.Printf("%s:%d %s: %s\n", file, line, w.RuleName, w.Detail)
		bad++
	}
	if results.Error != nil {
		fmt.Printf("%s: build error: %s\n", file, results.Error.Message)
		bad++
	}
	seen := map[string]bool{}
	for _, r := range res.seen {
		seen[r] = true
	}
	var refs []string
	for r := range seen {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	fmt.Printf("%s: %d findings; base images resolved: %s\n", file, bad, strings.Join(refs, " "))
	if bad > 0 {
		return 1
	}
	return 0
}

func parseStages(file string) ([]instructions.Stage, []instructions.ArgCommand, *parser.Result) {
	dt, err := os.ReadFile(file)
	if err != nil {
		die("%v", err)
	}
	ast, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		die("%s: %v", file, err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		die("%s: %v", file, err)
	}
	return stages, metaArgs, ast
}

// cmdStages prints "<index> <name> <base>" per stage, the base expanded with
// the global ARGs (defaults overridden by --build-arg), as BuildKit does.
func cmdStages(file string, args argList) int {
	stages, metaArgs, ast := parseStages(file)
	env := map[string]string{}
	for _, ma := range metaArgs {
		for _, kv := range ma.Args {
			if v, ok := args[kv.Key]; ok {
				env[kv.Key] = v
			} else if kv.Value != nil {
				env[kv.Key] = *kv.Value
			}
		}
	}
	lex := shell.NewLex(ast.EscapeToken)
	for i, st := range stages {
		base, _, err := lex.ProcessWord(st.BaseName, shell.EnvsFromSlice(envSlice(env)))
		if err != nil {
			die("%s: stage %d: %v", file, i, err)
		}
		name := st.Name
		if name == "" {
			name = "-"
		}
		fmt.Printf("%d %s %s\n", i, name, base)
	}
	return 0
}

func envSlice(m map[string]string) []string {
	var s []string
	for k, v := range m {
		s = append(s, k+"="+v)
	}
	return s
}

// cmdContext lists the build context as the docker CLI / BuildKit send it
// (fsutil with the .dockerignore patterns) and checks every local COPY/ADD
// source of the Dockerfile against it.
func cmdContext(dir, file, export string) int {
	var patterns []string
	if f, err := os.Open(filepath.Join(dir, ".dockerignore")); err == nil {
		patterns, err = ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			die("%s/.dockerignore: %v", dir, err)
		}
	}
	files := map[string]bool{}
	dirs := map[string]bool{}
	var size int64
	err := fsutil.Walk(context.Background(), dir, &fsutil.FilterOpt{ExcludePatterns: patterns},
		func(p string, fi os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			p = filepath.ToSlash(p)
			if fi.IsDir() {
				dirs[p] = true
			} else {
				files[p] = true
				size += fi.Size()
			}
			return nil
		})
	if err != nil {
		die("walking %s: %v", dir, err)
	}
	fmt.Printf("context %s: %d files, %d bytes after .dockerignore (%d patterns)\n", dir, len(files), size, len(patterns))

	stages, _, _ := parseStages(file)
	failed := 0
	check := func(kind, src string) {
		if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
			fmt.Printf("  %s %s: remote source, not from the context\n", kind, src)
			return
		}
		clean := strings.TrimPrefix(path.Clean("/"+src), "/")
		n := 0
		for f := range files {
			if clean == "" || clean == "." {
				n++
				continue
			}
			if ok, _ := path.Match(clean, f); ok || strings.HasPrefix(f, clean+"/") {
				n++
				continue
			}
			// a wildcard matching a directory takes everything below it
			for d := range dirs {
				if ok, _ := path.Match(clean, d); ok && strings.HasPrefix(f, d+"/") {
					n++
					break
				}
			}
		}
		if n == 0 {
			fmt.Printf("  %s %s: NOT IN THE BUILD CONTEXT (missing, or excluded by .dockerignore)\n", kind, src)
			failed++
		} else {
			fmt.Printf("  %s %s: %d files\n", kind, src, n)
		}
	}
	for _, st := range stages {
		for _, c := range st.Commands {
			switch c := c.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					continue
				}
				for _, s := range c.SourcePaths {
					check("COPY", s)
				}
			case *instructions.AddCommand:
				for _, s := range c.SourcePaths {
					check("ADD", s)
				}
			}
		}
	}
	if export != "" {
		for f := range files {
			dst := filepath.Join(export, filepath.FromSlash(f))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				die("%v", err)
			}
			if err := copyFile(filepath.Join(dir, filepath.FromSlash(f)), dst); err != nil {
				die("%v", err)
			}
		}
		fmt.Printf("context exported to %s\n", export)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func main() {
	if len(os.Args) < 2 {
		die("usage: dfcheck lint|stages|context ...")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	file := fs.String("f", "Dockerfile", "Dockerfile")
	dir := fs.String("C", ".", "build context directory")
	export := fs.String("export", "", "copy the build context here")
	args := argList{}
	fs.Var(args, "build-arg", "K=V (repeatable)")
	if err := fs.Parse(os.Args[2:]); err != nil {
		die("%v", err)
	}
	switch os.Args[1] {
	case "lint":
		os.Exit(cmdLint(*file, args))
	case "stages":
		os.Exit(cmdStages(*file, args))
	case "context":
		os.Exit(cmdContext(*dir, *file, *export))
	default:
		die("unknown command %q", os.Args[1])
	}
}
