output "nodes" {
  description = "Every node's instance, address and roles."
  value = {
    for name, node in data.swarmboot_cluster.this.nodes : name => {
      instance_id = aws_instance.node[name].id
      private_ip  = node.ip
      roles       = node.roles
    }
  }
}

output "ca_cert_pem" {
  description = "The cluster CA every node trusts (empty without TLS)."
  value       = data.swarmboot_cluster.this.ca_cert_pem
}

output "not_after" {
  description = "When the first node certificate expires: renew before (swarmboot pki renew)."
  value       = data.swarmboot_cluster.this.not_after
}
