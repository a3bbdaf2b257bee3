# The seed's cluster on AWS: one instance per node of the description, each
# booting from the user-data swarmboot built for it. Make the PKI first
# (`swarmboot pki init FILE`) when the description uses TLS: a read of the
# data source never creates keys.

provider "aws" {
  region = var.region
}

locals {
  description = coalesce(var.description, "${path.module}/../../seed.yaml")
}

data "swarmboot_cluster" "this" {
  path    = local.description
  pki_dir = var.pki_dir
  # AWS's encodings and its 16 KiB limit, checked on user_data_base64.
  target = "aws"
}

data "aws_subnet" "nodes" {
  id = var.subnet_id
}

# etcd (2379, 2380), the engines (2376, 2375 plain) and the swarm manager
# (8333) talk to each other only.
resource "aws_security_group" "cluster" {
  name_prefix = "swarmboot-"
  description = "swarmboot cluster: its nodes reach each other"
  vpc_id      = data.aws_subnet.nodes.vpc_id

  ingress {
    description = "the nodes of the cluster"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    self        = true
  }

  egress {
    description = "image pulls and package updates"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "node" {
  # nodes is a map by node name; only its user-data attributes are
  # sensitive, so it works as for_each.
  for_each = data.swarmboot_cluster.this.nodes

  ami                    = var.ami[each.value.profile]
  instance_type          = var.instance_type
  key_name               = var.key_name
  subnet_id              = var.subnet_id
  private_ip             = each.value.ip
  vpc_security_group_ids = [aws_security_group.cluster.id]

  # gzip (cloud-config) or Ignition's gzip wrapper, in base64 for the API.
  user_data_base64 = each.value.user_data_base64
  # A node reads its user-data at first boot only: a changed config (a
  # renewed certificate too) takes a new instance, which plan shows.
  user_data_replace_on_change = true

  # With TLS the user-data holds the node's private key. IMDSv2 with one
  # hop keeps it from containers (their requests cross a second hop) and
  # from requests without a session token.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  tags = {
    Name  = each.key
    Roles = join(",", each.value.roles)
  }

  lifecycle {
    precondition {
      condition     = contains(keys(var.ami), each.value.profile)
      error_message = "No image for profile ${each.value.profile} (node ${each.key}): add it to var.ami."
    }
  }
}
