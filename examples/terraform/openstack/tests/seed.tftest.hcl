# terraform test of this module on the seed's cluster, offline: OpenStack is
# mocked, swarmboot_cluster is the real provider. It checks what reaches
# each server against the files `swarmboot render` writes, so render them
# first:
#
#   swarmboot render ../../seed.yaml --target openstack --encode gzip -o rendered
#   terraform init && terraform test
#
# mock_provider still needs the OpenStack provider's schema: terraform init
# must be able to install terraform-provider-openstack.

mock_provider "openstack" {}

variables {
  network_id = "00000000-0000-0000-0000-000000000001"
  image = {
    ubuntu  = "Ubuntu 24.04"
    flatcar = "Flatcar stable"
  }
  # What `swarmboot render --target openstack --encode gzip -o DIR` wrote.
  rendered = "rendered"
}

run "one_server_per_node" {
  command = plan

  assert {
    condition     = keys(openstack_compute_instance_v2.node) == ["docker-01", "docker-02", "docker-03", "etcd-01", "etcd-02", "etcd-03"]
    error_message = "want one server per node of the seed, by name; got ${jsonencode(keys(openstack_compute_instance_v2.node))}"
  }

  assert {
    condition = alltrue([
      for name, node in data.swarmboot_cluster.this.nodes :
      openstack_compute_instance_v2.node[name].network[0].fixed_ip_v4 == node.ip &&
      openstack_compute_instance_v2.node[name].image_name == var.image[node.profile] &&
      openstack_compute_instance_v2.node[name].name == name
    ])
    error_message = "each server must have its node's name, address and image"
  }

  assert {
    condition = alltrue([
      for name, node in data.swarmboot_cluster.this.nodes :
      openstack_compute_instance_v2.node[name].user_data == filebase64("${var.rendered}/${name}/${node.format == "ignition" ? "config.ign" : "user-data"}")
    ])
    error_message = "each server's user_data must be its node's file as `swarmboot render --target openstack --encode gzip` wrote it, in base64"
  }
}
