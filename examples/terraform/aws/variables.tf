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

variable "region" {
  description = "The AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "subnet_id" {
  description = "The subnet the nodes boot in. It must hold the description's node addresses (the seed's: 192.168.101.0/24)."
  type        = string
}

variable "ami" {
  description = "The image per profile of the description, e.g. { ubuntu = \"ami-...\", flatcar = \"ami-...\" }."
  type        = map(string)
}

variable "instance_type" {
  description = "The instance type of every node."
  type        = string
  default     = "t3.small"
}

variable "key_name" {
  description = "An EC2 key pair for SSH, if any (the description's ssh_authorized_keys reach the nodes anyway)."
  type        = string
  default     = null
}
