variable "description" {
  description = "The cluster description. Default: the seed's cluster, examples/seed.yaml."
  type        = string
  default     = null
}

variable "pki_dir" {
  description = "The cluster's PKI (swarmboot pki init FILE made it). Default: the description's tls.dir beside it."
  type        = string
  default     = null
}

variable "network_id" {
  description = "The network the nodes boot on. Its subnet must hold the description's node addresses (the seed's: 192.168.101.0/24)."
  type        = string
}

variable "image" {
  description = "The image name per profile of the description, e.g. { ubuntu = \"Ubuntu 24.04\", flatcar = \"Flatcar stable\" }."
  type        = map(string)
}

variable "flavor" {
  description = "The flavor of every node."
  type        = string
  default     = "m1.small"
}

variable "key_pair" {
  description = "A Nova key pair for SSH, if any (the description's ssh_authorized_keys reach the nodes anyway)."
  type        = string
  default     = null
}

variable "name" {
  description = "The name of the cluster's security group."
  type        = string
  default     = "swarmboot"
}
