package dockerarchive

// SwarmImage describes the classic Swarm image made from a static swarm
// binary (the boot test packs the project's model of swarm 1.2.9). It
// matches the upstream image where the generated units rely on it:
// ENTRYPOINT ["/swarm"] and port 2375. Unlike upstream it sets no
// SWARM_HOST, so the manager listens where the unit's `manage -H` says:
// the boot test then proves that the rendered -H is right.
func SwarmImage(tag string, binary []byte) Image {
	return Image{
		RepoTags:     []string{tag},
		Entrypoint:   []string{"/swarm"},
		Cmd:          []string{"--help"},
		ExposedPorts: []string{"2375/tcp"},
		Files:        []File{{Path: "/swarm", Mode: 0o755, Data: binary}},
	}
}
