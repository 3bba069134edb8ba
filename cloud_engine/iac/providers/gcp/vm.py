"""vm → google_compute_instance with a Shielded VM boot disk and OS Login."""

from __future__ import annotations

from cloud_engine.core.models import ResourceSpec
from cloud_engine.iac.hcl import Block, Value
from cloud_engine.iac.providers._base import KindRenderer, RenderContext, Rendered, require
from cloud_engine.iac.providers._common import output, ref, tf_name
from cloud_engine.iac.providers.gcp._labels import gcp_labels

TYPE = "google_compute_instance"
DEFAULT_MACHINE_TYPE = "e2-medium"
DEFAULT_IMAGE = "debian-12"
IMAGES = {
    "debian-12": "debian-cloud/debian-12",
    "ubuntu-2204-lts": "ubuntu-os-cloud/ubuntu-2204-lts",
    "ubuntu-2404-lts": "ubuntu-os-cloud/ubuntu-2404-lts-amd64",
    "rocky-linux-9": "rocky-linux-cloud/rocky-linux-9",
    "cos-stable": "cos-cloud/cos-stable",
}
# Boot disk image/size, zone, network and description all force a new instance.
FORCE_NEW = frozenset({"name", "region", "zone", "image", "disk_gb", "network", "description", "encrypted"})


def network_interface(spec: ResourceSpec, ctx: RenderContext) -> dict[str, Value]:
    """A network attachment: the configured network (and its first subnet) or a named one."""
    net = ctx.network(spec)
    if net is None:
        return {"network": spec.network or "default"}
    attrs: dict[str, Value] = {"network": ref("google_compute_network", tf_name(net.name))}
    if net.subnets:
        attrs["subnetwork"] = ref("google_compute_subnetwork", tf_name(net.name, net.subnets[0].name))
    return attrs


def render(spec: ResourceSpec, ctx: RenderContext) -> Rendered:
    image_key = spec.image or DEFAULT_IMAGE
    require(image_key in IMAGES, f"{spec.name}.image", f"GCP images are {sorted(IMAGES)}")
    name = tf_name(spec.name)
    labels = gcp_labels(spec, ctx)
    nic = Block("network_interface", (), network_interface(spec, ctx))
    if spec.public_ip:
        nic.add(Block("access_config"))
    instance = Block("resource", (TYPE, name), {
        "name": spec.name,
        "machine_type": spec.machine_type or DEFAULT_MACHINE_TYPE,
        "zone": spec.zone or f"{ctx.region_of(spec)}-a",
        "description": spec.description or None,
        "labels": labels,
        "allow_stopping_for_update": True,
        "metadata": {"block-project-ssh-keys": "TRUE", "enable-oslogin": "TRUE"},
    }, [
        Block("boot_disk", (), {"auto_delete": True}, [
            Block("initialize_params", (), {
                "image": IMAGES[image_key], "size": spec.disk_gb, "type": "pd-balanced", "labels": labels,
            }),
        ]),
        nic,
        Block("shielded_instance_config", (), {
            "enable_secure_boot": True, "enable_vtpm": True, "enable_integrity_monitoring": True,
        }),
    ])
    return Rendered(resources=[instance], outputs=[output(spec, ref(TYPE, name, "self_link"), "Instance self link")])


KIND = KindRenderer(kind="vm", resource_type=TYPE, render=render, force_new=FORCE_NEW)
