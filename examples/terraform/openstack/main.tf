# The seed's cluster on OpenStack: one server per node of the description,
# each booting from the user-data swarmboot built for it. Make the PKI
# first (`swarmboot pki init FILE`) when the description uses TLS: a read
# of the data source never creates keys. Configure the provider as usual
# (clouds.yaml and OS_CLOUD, or OS_* variables).

locals {
  description = coalesce(var.description, "${path.module}/../../seed.yaml")
}

data "swarmboot_cluster" "this" {
  path    = local.description
  pki_dir = var.pki_dir
  # Nova's limit: 65535 characters of base64, checked on user_data_base64.
  target = "openstack"
}

# etcd (2379, 2380), the engines (2376, 2375 plain) and the swarm manager
# (8333) talk to each other only.
resource "openstack_networking_secgroup_v2" "cluster" {
  name        = var.name
  description = "swarmboot cluster: its nodes reach each other"
}

resource "openstack_networking_secgroup_rule_v2" "cluster_v4" {
  direction         = "ingress"
  ethertype         = "IPv4"
  remote_group_id   = openstack_networking_secgroup_v2.cluster.id
  security_group_id = openstack_networking_secgroup_v2.cluster.id
}

resource "openstack_compute_instance_v2" "node" {
  # nodes is a map by node name; only its user-data attributes are
  # sensitive, so it works as for_each.
  for_each = data.swarmboot_cluster.this.nodes

  name            = each.key
  image_name      = var.image[each.value.profile]
  flavor_name     = var.flavor
  key_pair        = var.key_pair
  security_groups = [openstack_networking_secgroup_v2.cluster.name]

  # gzip (cloud-config) or Ignition's gzip wrapper, in base64: the provider
  # (gophercloud) sends a value that is base64 already as it is, and Nova
  # serves the bytes it decodes, gzip included, to cloud-init and Ignition.
  # A change replaces the server: user-data is read at first boot only.
  user_data = each.value.user_data_base64

  network {
    uuid        = var.network_id
    fixed_ip_v4 = each.value.ip
  }

  metadata = {
    roles = join(",", each.value.roles)
  }

  lifecycle {
    precondition {
      condition     = contains(keys(var.image), each.value.profile)
      error_message = "No image for profile ${each.value.profile} (node ${each.key}): add it to var.image."
    }
  }
}
