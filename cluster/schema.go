package cluster

import _ "embed"

// Schema is the description's JSON Schema, for editors (yaml-language-server
// reads a `# yaml-language-server: $schema=...` comment). Validation proper
// is Load's: the schema cannot say "no etcd member" or "port conflict".
//
//go:embed schema.json
var Schema []byte
