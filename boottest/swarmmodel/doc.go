// Package swarmmodel is swarmboot's own model of classic Docker Swarm
// 1.2.9: `swarm join`, `swarm manage` and `swarm list` with etcd discovery,
// as far as the generated units and the boot test rely on them. README.md
// lists what is modelled, from which upstream sources, and what is not.
// Classic swarm itself is not used, built or copied.
package swarmmodel
