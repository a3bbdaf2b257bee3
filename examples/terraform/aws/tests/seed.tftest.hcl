# terraform test of this module on the seed's cluster, offline: AWS is
# mocked, swarmboot_cluster is the real provider. It checks what reaches
# each aws_instance against the files `swarmboot render` writes, so render
# them first (the Go test TestTerraformExampleAWS does all of this):
#
#   swarmboot render ../../seed.yaml --target aws --encode gzip -o rendered
#   terraform init && terraform test

mock_provider "aws" {}

variables {
  subnet_id = "subnet-0123456789abcdef0"
  ami = {
    ubuntu  = "ami-0ubuntu"
    flatcar = "ami-0flatcar"
  }
  # What `swarmboot render --target aws --encode gzip -o DIR` wrote.
  rendered = "rendered"
}

run "one_instance_per_node" {
  command = plan

  assert {
    condition     = keys(aws_instance.node) == ["docker-01", "docker-02", "docker-03", "etcd-01", "etcd-02", "etcd-03"]
    error_message = "want one aws_instance per node of the seed, by name; got ${jsonencode(keys(aws_instance.node))}"
  }

  assert {
    condition = alltrue([
      for name, node in data.swarmboot_cluster.this.nodes :
      aws_instance.node[name].private_ip == node.ip && aws_instance.node[name].tags.Roles == join(",", node.roles)
    ])
    error_message = "each instance must have its node's address and roles"
  }

  assert {
    condition = (
      aws_instance.node["etcd-01"].ami == "ami-0ubuntu" && aws_instance.node["etcd-01"].private_ip == "192.168.101.101" &&
      aws_instance.node["docker-01"].ami == "ami-0flatcar" && aws_instance.node["docker-01"].private_ip == "192.168.101.111"
    )
    error_message = "etcd-01 boots Ubuntu at 192.168.101.101, docker-01 Flatcar at 192.168.101.111, as the seed says"
  }

  assert {
    condition = alltrue([
      for name, node in data.swarmboot_cluster.this.nodes :
      aws_instance.node[name].user_data_base64 == filebase64("${var.rendered}/${name}/${node.format == "ignition" ? "config.ign" : "user-data"}")
    ])
    error_message = "each instance's user_data_base64 must be its node's file as `swarmboot render --target aws --encode gzip` wrote it"
  }

  assert {
    condition     = alltrue([for i in aws_instance.node : i.user_data_replace_on_change])
    error_message = "a node reads its user-data at first boot only: a changed one must replace the instance"
  }

  assert {
    condition = alltrue([
      for i in aws_instance.node :
      i.metadata_options[0].http_tokens == "required" && i.metadata_options[0].http_put_response_hop_limit == 1 && i.metadata_options[0].http_endpoint == "enabled"
    ])
    error_message = "every instance must require IMDSv2 with hop limit 1: its user-data can hold its key"
  }
}

run "applied" {
  command = apply

  assert {
    condition = alltrue([
      for name, node in output.nodes :
      node.instance_id == aws_instance.node[name].id && node.private_ip == aws_instance.node[name].private_ip
    ]) && length(output.nodes) == 6
    error_message = "output nodes must list every instance with its address"
  }

  assert {
    condition     = output.ca_cert_pem == "" && output.not_after == ""
    error_message = "the seed's plain form has no CA and no certificate"
  }
}
