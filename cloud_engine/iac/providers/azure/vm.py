"""vm → azurerm_linux_virtual_machine + NIC (+ public IP): SSH keys only, Trusted Launch, host encryption."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Raw, Value
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered, require
from cloud_engine.iac.providers._common import output, ref, suffixed, tf_name
from cloud_engine.iac.providers.azure._common import first_subnet, placement

TYPE = "azurerm_linux_virtual_machine"
DEFAULT_MACHINE_TYPE = "Standard_B2s"
DEFAULT_IMAGE = "ubuntu-2204-lts"
ADMIN_USER = "azureuser"
# image → (publisher, offer, sku); all Gen2 so Trusted Launch works.
IMAGES = {
    "ubuntu-2204-lts": ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"),
    "ubuntu-2404-lts": ("Canonical", "ubuntu-24_04-lts", "server"),
    "debian-12": ("Debian", "debian-12", "12-gen2"),
    "rhel-9": ("RedHat", "RHEL", "9-lvm-gen2"),
}
FORCE_NEW = frozenset({"name", "region", "image", "network", "zone"})

SSH_KEY_VARIABLE = Block("variable", ("admin_ssh_public_key",), {
    "description": "SSH public key for the admin user of Azure VMs (password login is disabled)",
    "type": Raw("string"),
})


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    image = spec.image or DEFAULT_IMAGE
    require(image in IMAGES, f"{spec.name}.image", f"Azure Linux images are {sorted(IMAGES)}")
    name = tf_name(spec.name)
    tags = ctx.labels(spec)
    blocks: list[Block] = []
    ip_config: dict[str, Value] = {
        "name": "primary",
        "subnet_id": first_subnet(spec, ctx, required=True),
        "private_ip_address_allocation": "Dynamic",
    }
    if spec.public_ip:
        blocks.append(Block("resource", ("azurerm_public_ip", name), {
            **placement(spec, ctx), "name": suffixed(spec.name, "ip", 80),
            "allocation_method": "Static", "sku": "Standard", "tags": tags,
        }))
        ip_config["public_ip_address_id"] = ref("azurerm_public_ip", name)
    blocks.append(Block("resource", ("azurerm_network_interface", name), {
        **placement(spec, ctx), "name": suffixed(spec.name, "nic", 80), "tags": tags,
    }, [Block("ip_configuration", (), ip_config)]))
    publisher, offer, sku = IMAGES[image]
    blocks.append(Block("resource", (TYPE, name), {
        **placement(spec, ctx),
        "size": spec.machine_type or DEFAULT_MACHINE_TYPE,
        "zone": spec.zone,
        "admin_username": ADMIN_USER,
        "disable_password_authentication": True,
        "network_interface_ids": [ref("azurerm_network_interface", name)],
        "encryption_at_host_enabled": spec.encrypted,
        "secure_boot_enabled": True,
        "vtpm_enabled": True,
        "tags": tags,
    }, [
        Block("admin_ssh_key", (), {"username": ADMIN_USER, "public_key": Raw("var.admin_ssh_public_key")}),
        Block("os_disk", (), {
            "caching": "ReadWrite", "storage_account_type": "Premium_LRS", "disk_size_gb": spec.disk_gb,
        }),
        Block("source_image_reference", (), {
            "publisher": publisher, "offer": offer, "sku": sku, "version": "latest",
        }),
    ]))
    return Rendered(
        resources=blocks,
        variables={"admin_ssh_public_key": SSH_KEY_VARIABLE},
        outputs=[output(spec, ref(TYPE, name), "VM id")],
    )


KIND = KindRenderer(kind="vm", resource_type=TYPE, render=render, force_new=FORCE_NEW)
