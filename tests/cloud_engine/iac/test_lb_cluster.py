"""A load balancer in front of a Kubernetes cluster: the cloud side Terraform builds, and the Ingress it hands over.

Each cloud's controller makes the load balancer from an Ingress; these tests read the rendered
HCL the way a user reads the plan: the certificate is for the domain, the manifest routes the
domain to the Service on its port and names what Terraform created, and the cluster carries
what its controller needs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import hcl2
import pytest

from cloud_engine.core import CloudOrchestrator, State
from cloud_engine.core.cost import CostEstimator
from cloud_engine.core.models import ResourceSpec
from cloud_engine.data.catalog import load_catalog
from cloud_engine.errors import InvalidInput
from cloud_engine.iac.hcl import unescape_hcl_literal
from cloud_engine.iac.providers.aws.load_balancer import TLS_POLICY as VM_ALB_TLS_POLICY
from cloud_engine.iac.render import plumbing, render
from cloud_engine.iac.scan import ScanResult, load_allowlist, scan
from tests.cloud_engine.iac.checkov_bin import require_checkov
from tests.cloud_engine.iac.cluster_projects import cluster_ingress_project
from tests.cloud_engine.iac.test_render_plumbing import blocks
from tests.conftest import ADMIN, GUILD

PROVIDERS = ("aws", "gcp", "azure")
REPO = Path(__file__).resolve().parents[3]
ALLOWLIST = REPO / "checkov-allowlist.txt"
POLICY_FILE = REPO / "cloud_engine/iac/providers/aws/lb_controller_iam_policy.json"
# sha256 of kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json at tag v3.5.0
# (blob 761d0e733c41089c91ea009dd29faf71918085e5): the file must stay the published policy, byte for byte.
PUBLISHED_POLICY_SHA256 = "16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a"
FAKE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def rendered(provider: str, specs: list[ResourceSpec] | None = None) -> dict[str, str]:
    return render(provider, specs or cluster_ingress_project(), project_name="shop")


def main_of(provider: str, specs: list[ResourceSpec] | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    return blocks(rendered(provider, specs)["main.tf"])


def outputs(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Output name → {"description": text, "value": text of a literal, or the expression as written}."""
    out: dict[str, dict[str, Any]] = {}
    for entry in hcl2.loads(files["outputs.tf"]).get("output", []):
        for name, body in entry.items():
            out[unescape_hcl_literal(name)] = {
                key: unescape_hcl_literal(value) if value.startswith('"') else value
                for key, value in body.items() if isinstance(value, str)}
    return out


def manifest(files: dict[str, str], arn: str = FAKE_ARN) -> dict[str, Any]:
    """The Ingress output as kubectl would read it (a value known only after apply filled in with `arn`)."""
    value = outputs(files)["load_balancer__web-lb__ingress"]["value"]
    if value.startswith("{"):
        return dict(json.loads(value))
    pieces = hcl2.loads(files["main.tf"])["locals"][0]["load_balancer__web-lb__ingress"]
    return dict(json.loads(arn.join(unescape_hcl_literal(piece) for piece in pieces)))


def the_ingress(doc: dict[str, Any]) -> dict[str, Any]:
    items = doc["items"] if doc["kind"] == "List" else [doc]
    return next(item for item in items if item["kind"] == "Ingress")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_ingress_routes_the_domain_to_the_service_named_after_the_load_balancer(provider: str) -> None:
    files = rendered(provider)
    ingress = the_ingress(manifest(files))
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["metadata"]["namespace"] == "default"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "shop.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "web-lb", "port": {"number": 8080}}
    description = outputs(files)["load_balancer__web-lb__ingress"]["description"]
    assert description.startswith("Not applied by Terraform") and "kubectl apply" in description


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_port_defaults_to_80(provider: str) -> None:
    specs = [s.model_copy(update={"port": None}) if s.kind == "load_balancer" else s for s in cluster_ingress_project()]
    backend = the_ingress(manifest(rendered(provider, specs)))["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"]["port"] == {"number": 80}


# --- GCP -----------------------------------------------------------------------------------------

def test_gcp_ingress_names_the_address_certificate_and_tls_policy_terraform_made() -> None:
    files = rendered("gcp")
    main = blocks(files["main.tf"])
    address = main["google_compute_global_address"]["web-lb"]["name"]
    cert = main["google_compute_managed_ssl_certificate"]["web-lb"]
    policy = main["google_compute_ssl_policy"]["web-lb"]
    assert cert["managed"][0]["domains"] == ["shop.example.com"]
    assert (policy["profile"], policy["min_tls_version"]) == ("MODERN", "TLS_1_2")
    doc = manifest(files)
    ingress = the_ingress(doc)
    notes = ingress["metadata"]["annotations"]
    assert notes["kubernetes.io/ingress.global-static-ip-name"] == address
    assert notes["ingress.gcp.kubernetes.io/pre-shared-cert"] == cert["name"]
    (frontend,) = [item for item in doc["items"] if item["kind"] == "FrontendConfig"]
    assert notes["networking.gke.io/v1beta1.FrontendConfig"] == frontend["metadata"]["name"]
    assert frontend["spec"]["sslPolicy"] == policy["name"] and frontend["spec"]["redirectToHttps"]["enabled"] is True
    assert outputs(files)["load_balancer__web-lb"]["value"] == "${google_compute_global_address.web-lb.address}"
    # the Ingress controller makes the load balancer and its health-check firewall rule, not Terraform
    assert "google_compute_global_forwarding_rule" not in main
    assert "web-lb__health" not in main.get("google_compute_firewall", {})


def test_gcp_cluster_is_vpc_native_with_the_http_load_balancing_add_on_only_when_fronted() -> None:
    cluster = main_of("gcp")["google_container_cluster"]["apps"]
    assert "ip_allocation_policy" in cluster  # VPC-native: GKE Ingress reaches pods through NEGs
    assert cluster["addons_config"][0]["http_load_balancing"][0]["disabled"] is False
    alone = [s for s in cluster_ingress_project() if s.kind != "load_balancer"]
    assert "http_load_balancing" not in main_of("gcp", alone)["google_container_cluster"]["apps"]["addons_config"][0]


def test_gcp_needs_no_network_of_the_project_for_a_cluster_ingress() -> None:
    specs = [s.model_copy(update={"network": "shared"}) if s.kind == "k8s_cluster" else s
             for s in cluster_ingress_project() if s.kind not in ("network", "firewall")]
    assert the_ingress(manifest(rendered("gcp", specs)))["spec"]["rules"][0]["host"] == "shop.example.com"


# --- Azure ---------------------------------------------------------------------------------------

def test_azure_cluster_carries_the_agic_add_on_pointing_at_the_gateway() -> None:
    main = main_of("azure")
    aks = main["azurerm_kubernetes_cluster"]["apps"]
    assert aks["ingress_application_gateway"][0]["gateway_id"] == "${azurerm_application_gateway.web-lb.id}"
    gateway = main["azurerm_application_gateway"]["web-lb"]
    assert gateway["gateway_ip_configuration"][0]["subnet_id"] == "${azurerm_subnet.core__appgw.id}"
    assert gateway["ssl_policy"][0]["min_protocol_version"] == "TLSv1_2"
    ignored = set(gateway["lifecycle"][0]["ignore_changes"])
    assert {"backend_address_pool", "http_listener", "request_routing_rule", "probe", "ssl_certificate"} <= ignored
    assert "azurerm_kubernetes_cluster" not in str(gateway)  # the gateway does not depend on the cluster


def test_azure_add_on_identity_gets_the_roles_agic_needs() -> None:
    roles = main_of("azure")["azurerm_role_assignment"]
    granted = {body["role_definition_name"]: body["scope"] for name, body in roles.items() if name.startswith("web-lb")}
    assert granted == {
        "Contributor": "${azurerm_application_gateway.web-lb.id}",
        "Reader": "${azurerm_resource_group.main.id}",
        "Network Contributor": "${azurerm_subnet.core__appgw.id}",
        "Managed Identity Operator": "${azurerm_user_assigned_identity.web-lb__gateway.id}",
    }
    assert {body["principal_id"] for body in roles.values()} == {
        "${azurerm_kubernetes_cluster.apps.ingress_application_gateway[0].ingress_application_gateway_identity[0]"
        ".object_id}"}


def test_azure_ingress_uses_the_gateways_key_vault_certificate_and_redirects() -> None:
    files = rendered("azure")
    gateway = blocks(files["main.tf"])["azurerm_application_gateway"]["web-lb"]
    ingress = the_ingress(manifest(files))
    notes = ingress["metadata"]["annotations"]
    assert notes["appgw.ingress.kubernetes.io/appgw-ssl-certificate"] == gateway["ssl_certificate"][0]["name"]
    assert gateway["ssl_certificate"][0]["key_vault_secret_id"] == "${var.web_lb_certificate_secret_id}"
    assert notes["appgw.ingress.kubernetes.io/ssl-redirect"] == "true"
    assert ingress["spec"]["ingressClassName"] == "azure-application-gateway"
    assert 'variable "web_lb_certificate_secret_id"' in files["variables.tf"]
    assert "azurerm_subnet.core__appgw" in plumbing("azure", cluster_ingress_project(), project_name="shop")


def test_azure_refuses_a_second_load_balancer_on_the_same_cluster() -> None:
    second = ResourceSpec.model_validate({"kind": "load_balancer", "name": "api-lb", "backend": "apps",
                                          "domain": "api.example.com"})
    with pytest.raises(InvalidInput, match="one Application Gateway per cluster") as err:
        rendered("azure", [*cluster_ingress_project(), second])
    assert err.value.data["field"] == "api-lb.backend"


# --- AWS -----------------------------------------------------------------------------------------

def test_aws_ingress_names_the_certificate_and_the_edge_subnets_terraform_made() -> None:
    files = rendered("aws")
    main = blocks(files["main.tf"])
    cert = main["aws_acm_certificate"]["web-lb"]
    assert (cert["domain_name"], cert["validation_method"]) == ("shop.example.com", "DNS")
    assert outputs(files)["load_balancer__web-lb__ingress"]["value"] == (
        "${join(aws_acm_certificate_validation.web-lb.certificate_arn, local.load_balancer__web-lb__ingress)}")
    notes = the_ingress(manifest(files))["metadata"]["annotations"]
    assert notes["alb.ingress.kubernetes.io/certificate-arn"] == FAKE_ARN
    edges = [main["aws_subnet"][f"core__lb_edge_{zone}"] for zone in "ab"]
    assert notes["alb.ingress.kubernetes.io/subnets"] == ", ".join(edge["tags"]["Name"] for edge in edges)
    assert {edge["availability_zone"] for edge in edges} == {"us-east-1a", "us-east-1b"}
    assert main["aws_route_table_association"]["core__lb_edge_a"]["route_table_id"] == "${aws_route_table.core__public.id}"
    assert (notes["alb.ingress.kubernetes.io/scheme"], notes["alb.ingress.kubernetes.io/target-type"]) == (
        "internet-facing", "ip")
    assert notes["alb.ingress.kubernetes.io/ssl-policy"] == VM_ALB_TLS_POLICY
    assert json.loads(notes["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert notes["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert "aws_lb" not in main  # the controller makes the ALB


def test_aws_controller_runs_as_a_pod_identity_role_with_the_published_policy() -> None:
    files = rendered("aws")
    main = blocks(files["main.tf"])
    assert main["aws_eks_addon"]["apps__pod_identity"]["addon_name"] == "eks-pod-identity-agent"
    association = main["aws_eks_pod_identity_association"]["apps__lb_controller"]
    assert (association["namespace"], association["service_account"]) == ("kube-system", "aws-load-balancer-controller")
    assert association["role_arn"] == "${aws_iam_role.apps__lb_controller.arn}"
    trust = blocks(files["main.tf"], "data")["aws_iam_policy_document"]["apps__lb_controller"]["statement"][0]
    assert trust["principals"][0]["identifiers"] == ["pods.eks.amazonaws.com"]
    assert set(trust["actions"]) == {"sts:AssumeRole", "sts:TagSession"}
    assert hashlib.sha256(POLICY_FILE.read_bytes()).hexdigest() == PUBLISHED_POLICY_SHA256
    literal = hcl2.loads(files["main.tf"])
    policy = next(entry['"aws_iam_policy"']['"apps__lb_controller"'] for entry in literal["resource"]
                  if '"aws_iam_policy"' in entry)
    assert json.loads(unescape_hcl_literal(policy["policy"])) == json.loads(POLICY_FILE.read_text("utf-8"))
    attached = main["aws_iam_role_policy_attachment"]["apps__lb_controller"]
    assert attached["policy_arn"] == "${aws_iam_policy.apps__lb_controller.arn}"


def test_aws_hands_over_the_exact_helm_install_of_the_pinned_chart() -> None:
    controller = outputs(rendered("aws"))["load_balancer__web-lb__controller"]
    command = controller["value"]
    assert "eks/aws-load-balancer-controller --version 3.5.0 -n kube-system" in command
    assert "--set clusterName=apps" in command and "--set serviceAccount.name=aws-load-balancer-controller" in command
    assert "--set region=us-east-1" in command and "--set vpcTags.Name=core --set vpcTags.project=shop" in command
    assert controller["description"].startswith("Not run by Terraform")


def test_aws_controller_identity_is_rendered_once_per_cluster() -> None:
    second = ResourceSpec.model_validate({"kind": "load_balancer", "name": "api-lb", "backend": "apps",
                                          "domain": "api.example.com"})
    main = main_of("aws", [*cluster_ingress_project(), second])
    assert list(main["aws_eks_pod_identity_association"]) == ["apps__lb_controller"]
    assert set(main["aws_acm_certificate"]) == {"web-lb", "api-lb"}
    alone = [s for s in cluster_ingress_project() if s.kind != "load_balancer"]
    assert "aws_eks_pod_identity_association" not in main_of("aws", alone)


# --- every cloud ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("provider", "field"), [("azure", "web-lb.backend"), ("aws", "apps.network")])
def test_a_cluster_outside_the_projects_networks_is_one_line_naming_the_field(provider: str, field: str) -> None:
    """Azure's gateway subnet is carved from the cluster's network; EKS itself needs the network first."""
    specs = [s.model_copy(update={"network": None}) if s.kind == "k8s_cluster" else s for s in cluster_ingress_project()]
    with pytest.raises(InvalidInput) as err:
        rendered(provider, specs)
    assert err.value.data["field"] == field
    assert "network of this project" in err.value.data["rule"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_cluster_backed_load_balancer_is_priced_as_the_same_cloud_load_balancer(provider: str) -> None:
    catalog = load_catalog()
    region = catalog.regions(provider)[0]
    lb = next(s for s in cluster_ingress_project() if s.kind == "load_balancer")
    on_cluster = CostEstimator(catalog).estimate(provider, region, lb)
    on_vm = CostEstimator(catalog).estimate(provider, region, lb.model_copy(update={"backend": "web-1"}))
    assert on_cluster.monthly == on_vm.monthly > 0
    assert catalog.for_provider(provider).load_balancer.product in on_cluster.detail


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_sandbox_plans_a_cluster_backed_load_balancer(engine: CloudOrchestrator, settings: Any,
                                                                 provider: str) -> None:
    region = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus"}[provider]
    project = await engine.create_project(GUILD, ADMIN, name="shop", provider=provider, region=region)
    session = await engine.start_session(project.id, ADMIN)
    for spec in cluster_ingress_project():
        await engine.add_resource(session.id, ADMIN, spec)
    session = await engine.plan(session.id, ADMIN)
    assert session.state == State.PLAN_READY, session.error
    assert {(c["kind"], c["action"]) for c in session.plan_summary["changes"] if c["name"] == "web-lb"} == {
        ("load_balancer", "create")}
    shown = Path(settings.terraform_runs_dir) / str(project.id) / f"{provider}.outputs.hcl"
    assert "load_balancer__web-lb__ingress" in shown.read_text("utf-8")


@pytest.fixture(scope="module")
def checkov_result(tmp_path_factory: pytest.TempPathFactory) -> ScanResult:
    checkov = require_checkov()
    root = tmp_path_factory.mktemp("checkov-cluster-lb")
    for provider in PROVIDERS:
        target = root / provider
        target.mkdir()
        for name, text in rendered(provider).items():
            (target / name).write_text(text, encoding="utf-8")
    outcome = scan(root, checkov=checkov)
    assert outcome.scanned, outcome.reason
    return outcome


def test_a_cluster_backed_load_balancer_passes_checkov_on_every_cloud_except_the_allowlist(
        checkov_result: ScanResult) -> None:
    allowed = load_allowlist(ALLOWLIST)
    unexpected = [f"{f.check_id} {f.resource} ({f.file}:{f.line}) {f.name}" for f in checkov_result.findings
                  if f.check_id not in allowed]
    assert not unexpected, "checks failed that the allow-list does not explain:\n" + "\n".join(unexpected)
    assert {"aws", "gcp", "azure"} <= {f.file.split("/")[0] for f in checkov_result.findings}


def test_the_allowlist_entries_for_the_controllers_published_policy_are_needed(checkov_result: ScanResult) -> None:
    """CKV_AWS_290 and CKV_AWS_355 are listed for the controller's policy alone: they must still fail on it."""
    failed = {(f.check_id, f.resource) for f in checkov_result.findings}
    assert {("CKV_AWS_290", "aws_iam_policy.apps__lb_controller"),
            ("CKV_AWS_355", "aws_iam_policy.apps__lb_controller")} <= failed
