package dockerarchive

// SwarmImage describes the classic Swarm image made from a static swarm
// binary. It matches the upstream image where the generated units rely on
// it: ENTRYPOINT ["/swarm"], and SWARM_HOST=:2375 so that `swarm manage`
// listens on every address inside the container (its own default is
// 127.0.0.1:2375, which `-p 8333:2375` could not reach).
func SwarmImage(tag string, binary []byte) Image {
	return Image{
		RepoTags:     []string{tag},
		Entrypoint:   []string{"/swarm"},
		Cmd:          []string{"--help"},
		Env:          []string{"SWARM_HOST=:2375"},
		ExposedPorts: []string{"2375/tcp"},
		Files:        []File{{Path: "/swarm", Mode: 0o755, Data: binary}},
	}
}
