"""What a request asks for: the workload's parts, read from the text with synonyms.

Why a requirement model instead of keyword → resource rules: "web shop with postgres" names an
app tier (the shop) and a database; keyword matching saw only "postgres" and designed no
compute. Here every phrase maps to a part (app tier, data stores by engine, cache, object
storage, static hosting, entry point, batch, queue, private/internal), parts the catalogue
cannot offer are kept as `unsupported` with the reason, and a request with no part we know is
reported as not recognised instead of being guessed at. The same model checks model answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def _rx(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(phrases) + r")(?![\w-])")


# Anything that runs code the user writes or installs.
_APP = _rx(r"web ?apps?", r"web ?applications?", r"apps?", r"applications?", r"apis?", r"rest", r"graphql",
           r"back-?ends?", r"micro-?services?", r"portals?", r"shops?", r"(?:online|web|e-|app) ?stores?",
           r"e-?commerce", r"checkout", r"saas", r"crm", r"erp", r"hr (?:tool|system|app|platform|portal)s?",
           r"payroll", r"cms", r"wordpress", r"drupal", r"joomla", r"magento", r"woocommerce", r"django", r"rails",
           r"flask", r"fastapi", r"laravel", r"node(?:\.?js)?", r"express", r"spring(?: boot)?", r"php", r"\.net",
           r"websites?", r"web ?sites?", r"blogs?", r"forums?", r"wiki", r"chat", r"bots?", r"game servers?",
           r"booking (?:system|site|app)", r"ticketing", r"helpdesk", r"dashboards?", r"ingest(?:ion)?",
           r"telemetry", r"iot", r"webhooks?", r"mobile (?:app )?back-?end", r"sign-?up", r"login", r"tool",
           r"platforms?", r"serverless", r"functions?")
_WEB = (r"web ?apps?", r"web ?applications?", r"websites?", r"web ?sites?", r"portals?", r"shops?",
        r"(?:online|web|e-) ?stores?", r"e-?commerce", r"checkout", r"saas", r"wordpress", r"drupal", r"joomla",
        r"magento", r"woocommerce", r"blogs?", r"forums?", r"booking (?:system|site|app)", r"sign-?up", r"cms")
# Frameworks say code runs and is usually public, not whether it serves pages or an API.
_FRAMEWORKS = (r"django", r"rails", r"flask", r"laravel", r"php", r"node(?:\.?js)?")
_WEB_WORDS = _rx(*_WEB)
_API_WORDS = _rx(r"apis?", r"rest", r"graphql", r"back-?ends?", r"webhooks?", r"ingest(?:ion)?", r"telemetry", r"iot",
                 r"mobile (?:app )?back-?end")
_PUBLIC_WEB = _rx(*_WEB, *_FRAMEWORKS, r"customers?", r"public", r"users", r"mobile", r"apis?", r"rest", r"graphql",
                  r"webhooks?", r"ingest(?:ion)?", r"telemetry", r"iot")
_STATIC = _rx(r"static (?:web ?)?(?:site|website|pages?|front-?end|hosting)s?", r"landing pages?",
              r"marketing (?:web ?)?(?:site|website|pages?)s?", r"brochure (?:site|website)s?",
              r"portfolio (?:site|website)s?", r"docs? (?:site|website)s?", r"documentation (?:site|website)s?",
              r"jamstack", r"hugo", r"jekyll", r"gatsby", r"single[- ]page app(?:lication)?s?", r"spa")
_POSTGRES = _rx(r"postgres(?:ql)?", r"pg", r"postgis", r"timescale(?:db)?")
_MYSQL = _rx(r"mysql", r"mariadb")
# Frameworks whose usual database is implied when the request names no engine.
_POSTGRES_APPS = _rx(r"django", r"rails")
_MYSQL_APPS = _rx(r"wordpress", r"drupal", r"joomla", r"magento", r"woocommerce", r"laravel")
_GENERIC_DB = _rx(r"databases?", r"dbs?", r"sql", r"relational", r"records", r"crm", r"erp", r"hr (?:tool|system|"
                  r"app|platform|portal)s?", r"payroll", r"inventory", r"orders?", r"customers? data", r"accounts",
                  r"shops?", r"(?:online|web|e-) ?stores?", r"e-?commerce", r"checkout", r"booking (?:system|site|app)",
                  r"ticketing", r"helpdesk", r"patients?", r"portals?", r"saas", r"cms", r"forums?", r"wiki",
                  r"sign-?up", r"login", r"telemetry", r"iot", r"ingest(?:ion)?", r"reporting", r"ledger", r"users",
                  r"user accounts?", r"profiles?", r"sharing")
_CACHE = _rx(r"redis", r"memcached?", r"caches?", r"caching", r"session store")
_STORAGE = _rx(r"files?", r"uploads?", r"images?", r"photos?", r"pictures", r"media", r"videos?", r"documents?",
               r"attachments?", r"backups?", r"archives?", r"archiving", r"object (?:storage|store)", r"buckets?",
               r"assets", r"pdfs?", r"scans?", r"data ?lakes?", r"datasets?", r"recordings?", r"exports?")
_COLD = _rx(r"archives?", r"archiving", r"backups?", r"cold", r"long-term", r"retention", r"rarely (?:read|used)")
_BATCH = _rx(r"batch", r"etl", r"elt", r"cron", r"scheduled (?:jobs?|tasks?)", r"nightly", r"background (?:jobs?|"
             r"workers?|tasks?)", r"workers?", r"pipelines?", r"analytics", r"reports? generation", r"data processing",
             r"transcod\w*", r"log processing", r"crunch(?:ing)?", r"spark")
_QUEUE = _rx(r"queues?", r"message (?:queue|broker|bus)s?", r"kafka", r"rabbitmq", r"sqs", r"pub/?sub", r"event bus",
             r"celery", r"event stream(?:ing)?", r"streaming")
_CONTAINERS = _rx(r"kubernetes", r"k8s", r"micro-?services?", r"containers?", r"containeri[sz]ed", r"docker", r"helm")
_ML = _rx(r"ml", r"machine learning", r"gpus?", r"cuda", r"model training", r"train(?:ing)? models?",
          r"deep learning", r"llms?", r"fine-?tun(?:e|ing)", r"inference", r"neural", r"ai models?")
_PRIVATE = _rx(r"internal", r"intranet", r"employees? only", r"staff only", r"back[- ]office", r"private",
               r"not public", r"vpn only", r"in-house", r"for (?:our |the )?(?:staff|employees|team)")
_DEV = _rx(r"dev", r"development", r"test", r"testing", r"staging", r"sandbox", r"prototype", r"poc",
           r"proof of concept", r"hobby", r"personal", r"demo", r"side project")

# Needs the catalogue cannot meet: (pattern, part name, what the design does instead).
_UNSUPPORTED: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (_rx(r"mongo(?:db)?", r"document (?:database|db|store)", r"nosql", r"couchdb", r"cassandra", r"dynamodb",
         r"cosmos ?db", r"firestore"),
     "NoSQL/MongoDB database",
     "only PostgreSQL and MySQL are in the catalogue; a PostgreSQL database (JSONB columns) stands in, or run the "
     "document store yourself"),
    (_rx(r"sql server", r"mssql", r"oracle"), "SQL Server/Oracle database",
     "only PostgreSQL and MySQL are in the catalogue"),
    (_QUEUE, "message queue", "no managed queue is offered; the worker polls a table in the database, or add the "
     "provider's queue (Pub/Sub, SQS, Service Bus) outside Cloud Engine"),
    (_rx(r"gpus?", r"cuda", r"deep learning", r"model training", r"train(?:ing)? models?", r"fine-?tun(?:e|ing)"),
     "GPU machines", "no GPU machine types are in the catalogue; a CPU worker handles data preparation and light "
     "inference"),
    (_rx(r"elasticsearch", r"opensearch", r"solr", r"full-?text search", r"search (?:engine|cluster|index)"),
     "search cluster", "no managed search is offered; PostgreSQL full-text search covers simple cases"),
    (_rx(r"serverless", r"lambdas?", r"cloud functions?", r"azure functions?", r"cloud run", r"fargate"),
     "serverless functions", "no serverless runtime is offered; the code runs on the app servers"),
    (_rx(r"cdn", r"content delivery"), "CDN", "no CDN is offered; add the provider's CDN in front of the bucket or "
     "servers outside Cloud Engine"),
    (_rx(r"e-?mail (?:server|sending)", r"smtp", r"newsletters?"), "e-mail sending",
     "no mail service is offered; use a transactional e-mail provider"),
    (_rx(r"dns", r"domain names?"), "DNS", "no DNS zone is offered; point your domain at the entry point yourself"),
)
_CACHE_NOTE = ("no managed cache (Memorystore, ElastiCache, Azure Cache for Redis) is in the Cloud Engine catalogue; "
               "run Redis on the app server for small loads or add the provider's managed cache outside Cloud Engine")


@dataclass(frozen=True)
class Unsupported:
    """A need the request names that the catalogue cannot meet, and what the design does instead."""

    part: str
    instead: str


@dataclass(frozen=True)
class Requirements:
    """The parts of a workload, as read from one request."""

    app_tier: bool = False
    app_role: str = "app"
    public: bool = False
    private_only: bool = False
    engines: tuple[str, ...] = ()
    cache: bool = False
    object_storage: bool = False
    cold_storage: bool = False
    static_hosting: bool = False
    batch: bool = False
    queue: bool = False
    containers: bool = False
    ml: bool = False
    dev: bool = False
    unsupported: tuple[Unsupported, ...] = ()
    unrecognised: tuple[str, ...] = field(default=())

    @property
    def runs_code(self) -> bool:
        return self.app_tier or self.batch or self.containers or self.ml

    def parts(self) -> list[str]:
        """Human labels of the recognised parts, in a stable order."""
        labels = [(self.static_hosting, "static site"), (self.app_tier, f"{self.app_role} tier"),
                  (self.containers, "containers"), (self.batch, "batch/background jobs"), (self.ml, "ML workload"),
                  (self.cache, "cache"), (self.object_storage, "object storage"), (self.queue, "queue"),
                  (self.private_only, "internal only"), (self.dev, "dev/test")]
        out = [label for on, label in labels if on]
        out[1:1] = [f"{e} database" for e in self.engines]
        return out


def _role(text: str) -> str:
    if _WEB_WORDS.search(text):
        return "web"
    return "api" if _API_WORDS.search(text) else "app"


def extract(use_case: str) -> Requirements:
    """The requirement model of one request (lower-cased matching, whole words)."""
    text = use_case.lower()
    static = bool(_STATIC.search(text))
    # "static marketing website": the words that made it static do not also make an app tier.
    rest = _STATIC.sub(" ", text) if static else text
    containers = bool(_CONTAINERS.search(text))
    app = bool(_APP.search(rest)) or containers
    engines: list[str] = []
    if _POSTGRES.search(text):
        engines.append("postgres")
    if _MYSQL.search(text):
        engines.append("mysql")
    if not engines:
        engines += [e for e, apps in (("postgres", _POSTGRES_APPS), ("mysql", _MYSQL_APPS)) if apps.search(text)]
    unsupported = [Unsupported(part, instead) for pattern, part, instead in _UNSUPPORTED if pattern.search(text)]
    nosql = any(u.part.startswith(("NoSQL", "SQL Server")) for u in unsupported)
    if not engines and (_GENERIC_DB.search(rest) or nosql):
        engines.append("postgres")
    cache = bool(_CACHE.search(text))
    if cache:
        unsupported.insert(0, Unsupported("managed cache", _CACHE_NOTE))
    ml = bool(_ML.search(text))
    batch = bool(_BATCH.search(text)) or bool(_QUEUE.search(text))
    private = bool(_PRIVATE.search(text))
    req = Requirements(
        app_tier=app, app_role=_role(rest) if app else "app", public=app and not private and bool(_PUBLIC_WEB.search(rest)),
        private_only=private, engines=tuple(engines), cache=cache, object_storage=bool(_STORAGE.search(text)),
        cold_storage=bool(_COLD.search(text)), static_hosting=static, batch=batch, queue=bool(_QUEUE.search(text)),
        containers=containers, ml=ml, dev=bool(_DEV.search(text)), unsupported=tuple(unsupported),
    )
    if not (req.runs_code or req.engines or req.object_storage or req.static_hosting):
        return Requirements(dev=req.dev, private_only=private, unsupported=req.unsupported,
                            unrecognised=(use_case.strip()[:200],))
    return req


def missing_parts(req: Requirements, kinds: dict[str, set[str]]) -> list[str]:
    """Parts the request names that a design (kind → set of engines/roles) leaves out."""
    missing = []
    if req.runs_code and not ({"vm", "k8s_cluster"} & kinds.keys()):
        missing.append("compute to run the application")
    for engine in req.engines:
        if engine not in kinds.get("database", set()):
            missing.append(f"a {engine} database")
    if (req.object_storage or req.static_hosting) and "bucket" not in kinds:
        missing.append("object storage")
    return missing
