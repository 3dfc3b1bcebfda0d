"""The whole platform on one machine, from the packaged local template.

PostgreSQL and the AWS emulator; the stack's queues, topics, buckets and
secrets created in the emulator; the NLP service as a process (in AWS: Fargate
behind an internal load balancer, which the template's functions point at); the
HTTP gateway in front of the API functions; an event-source-mapping runner per
SQS event; schedules; alarms that mail ops. ``LocalStack.start()`` brings it
up, ``stop()`` takes it down without losing queued messages.
"""

import json
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

from kestrel_local.alarms import AlarmEvaluator, LiveMetrics
from kestrel_local.buckets_state import restore_buckets, save_buckets
from kestrel_local.config import PROJECT_ROOT, LocalSettings
from kestrel_local.dataforseo import LOCAL_LOGIN, LOCAL_PASSWORD, DataForSeoServer
from kestrel_local.demo_site import DemoSiteServer
from kestrel_local.demo_site.competitors import COMPETITORS
from kestrel_local.environments import Environments
from kestrel_local.gateway import Gateway
from kestrel_local.identity import LocalIdentity
from kestrel_local.mail import Mailbox, TopicPublisher
from kestrel_local.model import StackSpec
from kestrel_local.moto_server import MotoServer, start_moto
from kestrel_local.nlp_service import NlpServiceProcess
from kestrel_local.packaging import package_local_template
from kestrel_local.postgres import LocalDatabase, provision, start_embedded
from kestrel_local.provision import ProvisionedStack
from kestrel_local.provision import provision as provision_resources
from kestrel_local.queues_state import restore_queues, save_queues
from kestrel_local.runner import QueueRunner
from kestrel_local.schedules import Scheduler
from kestrel_local.search_console import SearchConsoleServer
from kestrel_local.template import load_stack
from shared.screenshots.chromium import LOCAL_CHROMIUM

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
NLP_SERVICE_URL_VARIABLE = "KESTREL_NLP_SERVICE_URL"
NLP_SERVICE_LOG = "nlp_service.log"
DATAFORSEO_LOG = "dataforseo.log"
DATAFORSEO_URL_VARIABLE = "KESTREL_DATAFORSEO_API_BASE_URL"
DATAFORSEO_SECRET_VARIABLE = "KESTREL_DATAFORSEO_SECRET_NAME"  # noqa: S105 (a variable name)
# The local stage's dataforseoSecretName, used when no function of the template names the secret yet.
DEFAULT_DATAFORSEO_SECRET = "kestrel/local/dataforseo"  # noqa: S105 (a secret name)


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @property
    def runtime(self) -> Path:
        return self.root / "runtime.json"

    @property
    def status(self) -> Path:
        return self.root / "status.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def mail(self) -> Path:
        return self.root / "mail"

    @property
    def identity(self) -> Path:
        return self.root / "identity"

    @property
    def template_cache(self) -> Path:
        return self.root / "template-cache"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def saved_queues(self) -> Path:
        return self.root / "queues.json"

    @property
    def saved_buckets(self) -> Path:
        return self.root / "buckets"

    @property
    def alarm_states(self) -> Path:
        return self.root / "alarm-states.json"

    @property
    def postgres(self) -> Path:
        return self.root / "postgres"

    @property
    def demo_site_ca(self) -> Path:
        return self.root / "demo-site-ca.pem"

    @property
    def dataforseo_state(self) -> Path:
        return self.root / "dataforseo.json"


@dataclass(frozen=True)
class SearchConsoleEndpoints:
    """Where the functions reach Google Search Console: the local stand-in, or the real API."""

    api_base_url: str
    token_uri: str


@dataclass(frozen=True)
class DemoSite:
    """How the functions reach the demo website: its hosts pinned to a local address, and the CA to trust."""

    url: str
    hosts: tuple[str, ...]
    address: str  # host:port
    ca_file: str

    def environment(self) -> dict[str, str]:
        return {
            "KESTREL_CRAWL_PINNED_HOSTS": json.dumps(dict.fromkeys(self.hosts, self.address)),
            "KESTREL_CRAWL_CA_FILE": self.ca_file,
        }


@dataclass(frozen=True)
class Runtime:
    """What a running stack tells the other `kestrel` commands (written to runtime.json)."""

    pid: int
    api_url: str
    issuer: str
    audience: str
    aws_endpoint: str
    region: str
    app_database_url: str
    owner_database_url: str
    started_at: float
    search_console_api: str = ""
    search_console_token_uri: str = ""
    demo_site_url: str = ""
    demo_site_address: str = ""
    demo_site_ca_file: str = ""
    # The NLP service the functions call (KESTREL_NLP_SERVICE_URL): the stack's process, or the one
    # KESTREL_LOCAL_NLP_SERVICE_URL named.
    nlp_service_url: str = ""
    # DataForSEO: the stand-in's URL (or the real API's) and the secret holding the login.
    dataforseo_api: str = ""
    dataforseo_secret_name: str = ""
    dataforseo_stand_in: bool = False

    @property
    def search_console(self) -> SearchConsoleEndpoints | None:
        if not self.search_console_api:
            return None
        return SearchConsoleEndpoints(self.search_console_api, self.search_console_token_uri)

    @property
    def demo_site(self) -> DemoSite | None:
        www = urlsplit(self.demo_site_url).hostname
        if not www:
            return None
        hosts = (www, www.removeprefix("www."), *(host for site in COMPETITORS for host in (site.host, site.domain)))
        return DemoSite(self.demo_site_url, hosts, self.demo_site_address, self.demo_site_ca_file)

    @classmethod
    def read(cls, paths: StatePaths) -> "Runtime":
        if not paths.runtime.exists():
            raise RuntimeError("The local stack is not running: start it with `make up` (or `kestrel up`).")
        return cls(**json.loads(paths.runtime.read_text()))


def function_overrides(
    app_database_url: str,
    aws_endpoint: str,
    settings: LocalSettings,
    *,
    search_console: SearchConsoleEndpoints | None = None,
    demo_site: DemoSite | None = None,
    nlp_service_url: str | None = None,
    dataforseo_api: str | None = None,
) -> dict[str, str]:
    """What differs for a function between AWS and this machine: endpoints and credentials, nothing else."""
    overrides = {
        "KESTREL_DATABASE_URL": app_database_url,
        "KESTREL_DB_SSLMODE": "disable",
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
        "POWERTOOLS_TRACE_DISABLED": "1",  # no X-Ray daemon locally
        **LOCAL_CREDENTIALS,
    }
    if search_console is not None:
        overrides["KESTREL_GSC_API_BASE_URL"] = search_console.api_base_url
        overrides["KESTREL_GSC_TOKEN_URI"] = search_console.token_uri
    if demo_site is not None:
        overrides.update(demo_site.environment())
    if nlp_service_url:
        # In AWS, the internal load balancer's DNS name (custom.nlp.serviceUrl): not resolvable here.
        overrides[NLP_SERVICE_URL_VARIABLE] = nlp_service_url
    if dataforseo_api:
        overrides[DATAFORSEO_URL_VARIABLE] = dataforseo_api
    # In AWS, where the screenshot image unpacks Chromium (/opt/chromium); here, where `make setup` does.
    overrides["KESTREL_CHROMIUM_PATH"] = str(LOCAL_CHROMIUM)
    overrides.update(settings.function_environment)
    if settings.sentry_dsn:
        overrides["KESTREL_SENTRY_DSN"] = settings.sentry_dsn
    else:
        overrides["KESTREL_SENTRY_DSN_SECRET_NAME"] = ""  # the stage's secret does not exist locally
    return overrides


def configure_process(
    database: LocalDatabase,
    aws_endpoint: str,
    settings: LocalSettings,
    *,
    search_console: SearchConsoleEndpoints | None = None,
) -> None:
    """Let this process use the shared runtime (migrations, demo data) against the local services."""
    os.environ.update(function_overrides(database.app_url, aws_endpoint, settings, search_console=search_console))
    os.environ["KESTREL_STAGE"] = "local"
    os.environ["KESTREL_MIGRATION_DATABASE_URL"] = database.owner_url
    from shared.runtime.cache import reset_cached_runtime

    reset_cached_runtime()


def nlp_service_environment(aws_endpoint: str, settings: LocalSettings) -> dict[str, str]:
    """The NLP service's AWS: the emulator (its models bucket), as the task role's S3 is in AWS."""
    return {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
        **LOCAL_CREDENTIALS,
    }


def start_database(settings: LocalSettings, paths: StatePaths) -> LocalDatabase:
    admin_url = settings.database_url or start_embedded(paths.postgres)
    return provision(admin_url, settings.database_name)


def load_local_stack(settings: LocalSettings, paths: StatePaths, *, issuer: str, aws_endpoint: str) -> StackSpec:
    template = package_local_template(
        PROJECT_ROOT,
        params={"auth0IssuerUrl": issuer, "auth0Audience": settings.audience},
        cache_dir=paths.template_cache,
    )
    return load_stack(
        template, stage="local", region=settings.region, secrets_dir=paths.secrets, endpoint_url=aws_endpoint
    )


class LocalStack:
    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings
        self.paths = StatePaths(settings.state_dir)
        self.moto: MotoServer | None = None
        self.identity: LocalIdentity | None = None
        self.gateway: Gateway | None = None
        self.environments: Environments | None = None
        self.runners: list[QueueRunner] = []
        self.scheduler: Scheduler | None = None
        self.alarms: AlarmEvaluator | None = None
        self.provisioned: ProvisionedStack | None = None
        self.spec: StackSpec | None = None
        self.database: LocalDatabase | None = None
        # The local Search Console stand-in (None when settings point at the real API).
        self.search_console: SearchConsoleServer | None = None
        self.search_console_endpoints: SearchConsoleEndpoints | None = None
        self.demo_site: DemoSiteServer | None = None
        # The NLP service's process (None when settings name one already running) and its URL.
        self.nlp_service: NlpServiceProcess | None = None
        self.nlp_service_url = ""
        self._nlp_starting: Future[str] | None = None
        # The DataForSEO stand-in (None when settings point at the real API), its URL, the login secret's name.
        self.dataforseo: DataForSeoServer | None = None
        self.dataforseo_api = ""
        self.dataforseo_secret_name = ""
        self._status_stop = threading.Event()
        self._status_thread: threading.Thread | None = None

    @property
    def aws_endpoint(self) -> str:
        return self.settings.aws_endpoint_url or (self.moto.endpoint if self.moto else "")

    def client(self, service: str) -> Any:
        return local_client(service, endpoint=self.aws_endpoint, region=self.settings.region)

    def sqs(self) -> Any:
        return self.client("sqs")

    def start(self) -> None:
        settings, paths = self.settings, self.paths
        paths.root.mkdir(parents=True, exist_ok=True)
        self.database = start_database(settings, paths)
        if not settings.aws_endpoint_url:
            self.moto = start_moto(settings.aws_port)
        # spaCy takes seconds to load: the service starts while the database migrates and the template loads.
        self._nlp_starting = self.start_nlp_service_in_background()
        self.search_console_endpoints = self._start_search_console()
        # a new CA each `up`, in the state directory so its path is stable while the stack runs
        self._start_dataforseo()
        # the competitors the stand-in's SERPs link are virtual hosts of the demo site's server
        self.demo_site = DemoSiteServer(
            host=settings.host, port=settings.demo_site_port, ca_file=paths.demo_site_ca, competitors=COMPETITORS
        )
        self.demo_site.start()
        configure_process(self.database, self.aws_endpoint, settings, search_console=self.search_console_endpoints)
        from shared.migrate import migrate_to_head

        migrate_to_head()
        self.identity = LocalIdentity(
            paths.identity, host=settings.host, port=settings.identity_port, audience=settings.audience
        ).start()
        self.spec = load_local_stack(settings, paths, issuer=self.identity.issuer, aws_endpoint=self.aws_endpoint)
        if self.moto is not None:  # our emulator starts empty: bring back the uploads the saved messages point at
            restore_buckets(self.client("s3"), paths.saved_buckets, region=settings.region)
        self.provisioned = provision_resources(
            self.spec,
            endpoint_url=self.aws_endpoint,
            visibility_timeout_override=settings.visibility_timeout_seconds,
        )
        self.dataforseo_secret_name = self._store_dataforseo_login()
        sqs = self.sqs()
        if self.moto is not None and paths.saved_queues.exists():
            restore_queues(paths.saved_queues, self.provisioned, sqs=sqs)
        self.nlp_service_url = self._nlp_starting.result()
        self.environments = Environments(
            self.spec.functions,
            overrides=function_overrides(
                self.database.app_url,
                self.aws_endpoint,
                settings,
                search_console=self.search_console_endpoints,
                demo_site=self.demo_site_access,
                nlp_service_url=self.nlp_service_url,
                dataforseo_api=self.dataforseo_api,
            ),
            log_dir=paths.logs,
        )
        self.gateway = Gateway(self.spec.routes, self.environments, host=settings.host, port=settings.api_port).start()
        for source in self.spec.event_sources:
            queue = self.provisioned.queues[source.queue]
            runner = QueueRunner(
                source,
                queue_url=queue.url,
                queue_arn=queue.arn,
                region=settings.region,
                pool=self.environments.pools[source.function],
                sqs=self.sqs(),
            )
            self.runners.append(runner.start())
        self.scheduler = Scheduler(
            self.spec.schedules,
            region=settings.region,
            account_id=self.spec.account_id,
            sqs=self.sqs(),
            queue_urls={logical_id: queue.url for logical_id, queue in self.provisioned.queues.items()},
            invoke=self.environments.invoke,
        ).start()
        sns = self.client("sns")
        self.alarms = AlarmEvaluator(
            self.spec.alarms,
            LiveMetrics.for_stack(self.provisioned, self.sqs(), runners=self.runners, pools=self.environments.pools),
            region=settings.region,
            account_id=self.spec.account_id,
            topic_arns=self.provisioned.topics,
            notifier=TopicPublisher(sns, Mailbox(paths.mail), region=settings.region),
            interval=settings.alarm_interval_seconds,
            state_path=paths.alarm_states,
        ).start()
        self._write_runtime(self.gateway.url, self.identity.issuer, self.database)
        self._status_thread = threading.Thread(target=self._report_status, name="status", daemon=True)
        self._status_thread.start()

    def act_as(self, function: str) -> None:
        """Configure this process as ``function`` is configured (its resolved environment and the local overrides).

        The demo data go through the API's domain logic in this process; they need what the API function
        has, e.g. the queue it sends sync days to.
        """
        if self.environments is None:
            raise RuntimeError("The stack is not started.")
        os.environ.update(self.environments.pools[function].environment)
        from shared.runtime.cache import reset_cached_runtime

        reset_cached_runtime()

    def start_nlp_service_in_background(self) -> "Future[str]":
        """Start the NLP service (or take the configured one); the future's result is its URL, once ready."""
        settings = self.settings
        if settings.nlp_service_url:
            done: Future[str] = Future()
            done.set_result(settings.nlp_service_url.rstrip("/"))
            return done
        self.nlp_service = NlpServiceProcess(
            host=settings.host,
            port=settings.nlp_port,
            environment=nlp_service_environment(self.aws_endpoint, settings),
            log_path=self.paths.logs / NLP_SERVICE_LOG,
        )
        service, timeout = self.nlp_service, settings.nlp_start_timeout_seconds
        starting: Future[str] = Future()

        def start() -> None:
            try:
                starting.set_result(service.start(timeout=timeout).url)
            except BaseException as exc:  # handed to whoever waits for the URL
                starting.set_exception(exc)

        threading.Thread(target=start, name="nlp-service-start", daemon=True).start()
        return starting

    def stop_nlp_service(self) -> None:
        if self._nlp_starting is not None:
            self._nlp_starting.exception()  # wait for a start under way (its failure is reported by start())
        if self.nlp_service is not None:
            self.nlp_service.stop()

    def _start_search_console(self) -> SearchConsoleEndpoints:
        settings = self.settings
        if settings.gsc_api_base_url:
            return SearchConsoleEndpoints(
                settings.gsc_api_base_url, settings.gsc_token_uri or "https://oauth2.googleapis.com/token"
            )
        self.search_console = SearchConsoleServer(host=settings.host, port=settings.search_console_port).start()
        return SearchConsoleEndpoints(f"{self.search_console.url}/webmasters/v3", self.search_console.token_uri)

    def _start_dataforseo(self) -> str:
        """The DataForSEO API the functions call: the stand-in (its tasks kept in the state directory), or the
        real one the settings name."""
        settings = self.settings
        if settings.dataforseo_api_base_url:
            self.dataforseo_api = settings.dataforseo_api_base_url.rstrip("/")
            return self.dataforseo_api
        from kestrel_local.demo import DEMO_SITE_URL

        self.dataforseo = DataForSeoServer(
            sites=[DEMO_SITE_URL],
            host=settings.host,
            port=settings.dataforseo_port,
            ready_delay_seconds=settings.dataforseo_ready_delay_seconds,
            state_file=self.paths.dataforseo_state,
            log_path=self.paths.logs / DATAFORSEO_LOG,
        ).start()
        self.dataforseo_api = self.dataforseo.url
        return self.dataforseo_api

    def _store_dataforseo_login(self) -> str:
        """Create or update the stage's DataForSEO secret ({"login", "password"}): the stand-in's login, or the
        one the settings give for the real API. Its name is the template's (the functions' environment)."""
        assert self.spec is not None  # noqa: S101 (called after the template is loaded)
        names = {
            function.environment[DATAFORSEO_SECRET_VARIABLE]
            for function in self.spec.functions.values()
            if function.environment.get(DATAFORSEO_SECRET_VARIABLE)
        }
        name = sorted(names)[0] if names else DEFAULT_DATAFORSEO_SECRET
        settings = self.settings
        if self.dataforseo is not None:
            login, password = LOCAL_LOGIN, LOCAL_PASSWORD
        elif settings.dataforseo_login and settings.dataforseo_password:
            login, password = settings.dataforseo_login, settings.dataforseo_password.get_secret_value()
        else:  # the real API without a login given: the secret is the developer's to create
            return name
        value = json.dumps({"login": login, "password": password})
        secrets = self.client("secretsmanager")
        try:
            secrets.put_secret_value(SecretId=name, SecretString=value)
        except secrets.exceptions.ResourceNotFoundException:
            secrets.create_secret(Name=name, SecretString=value, Description="DataForSEO API login (local)")
        return name

    @property
    def demo_site_access(self) -> DemoSite | None:
        site = self.demo_site
        if site is None:
            return None
        return DemoSite(site.site_url, site.hosts, site.address, str(site.ca_file))

    def _write_runtime(self, api_url: str, issuer: str, database: LocalDatabase) -> None:
        runtime = Runtime(
            pid=os.getpid(),
            api_url=api_url,
            issuer=issuer,
            audience=self.settings.audience,
            aws_endpoint=self.aws_endpoint,
            region=self.settings.region,
            app_database_url=database.app_url,
            owner_database_url=database.owner_url,
            started_at=time.time(),
            search_console_api=self.search_console_endpoints.api_base_url if self.search_console_endpoints else "",
            search_console_token_uri=self.search_console_endpoints.token_uri if self.search_console_endpoints else "",
            demo_site_url=self.demo_site.site_url if self.demo_site else "",
            demo_site_address=self.demo_site.address if self.demo_site else "",
            demo_site_ca_file=str(self.demo_site.ca_file) if self.demo_site else "",
            nlp_service_url=self.nlp_service_url,
            dataforseo_api=self.dataforseo_api,
            dataforseo_secret_name=self.dataforseo_secret_name,
            dataforseo_stand_in=self.dataforseo is not None,
        )
        temporary = self.paths.runtime.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(runtime), indent=2))
        temporary.replace(self.paths.runtime)

    def status(self) -> dict[str, Any]:
        functions = {
            name: {
                "invocations": pool.stats.invocations,
                "errors": pool.stats.errors,
                "throttles": pool.stats.throttles,
                "concurrency_in_use": pool.stats.in_use,
                "peak_concurrency": pool.stats.peak_in_use,
                "limit": pool.limit,
            }
            for name, pool in (self.environments.pools if self.environments else {}).items()
        }
        runners = {
            runner.spec.function: {
                "batches": runner.stats.batches,
                "received": runner.stats.messages_received,
                "deleted": runner.stats.messages_deleted,
                "failed": runner.stats.messages_failed,
                "in_flight": runner.stats.in_flight,
                "peak_in_flight": runner.stats.peak_in_flight,
                "concurrency_limit": runner.limit,
            }
            for runner in self.runners
        }
        alarms = self.alarms.states() if self.alarms else {}
        dataforseo: dict[str, Any] = {"url": self.dataforseo_api, "stand_in": self.dataforseo is not None}
        if self.dataforseo is not None:
            tasks = self.dataforseo.tasks()
            dataforseo |= {
                "tasks": len(tasks),
                "not_collected": sum(1 for task in tasks if not task.collected),
                "spent_usd": str(self.dataforseo.spent),
                "requests": dict(self.dataforseo.requests),
            }
        return {
            "updated_at": time.time(),
            "functions": functions,
            "runners": runners,
            "alarms": alarms,
            "dataforseo": dataforseo,
        }

    def _report_status(self) -> None:
        while not self._status_stop.wait(1.0):
            temporary = self.paths.status.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.status(), indent=2))
            temporary.replace(self.paths.status)

    def stop(self) -> None:
        """Stop taking work, let in-flight invocations finish, keep every queued message for the next `up`."""
        self._status_stop.set()
        for runner in self.runners:
            runner.stop()
        if self.scheduler:
            self.scheduler.stop()
        if self.alarms:
            self.alarms.stop()
        if self.gateway:
            self.gateway.stop()
        if self.moto is not None and self.provisioned is not None:
            save_queues(self.provisioned, self.paths.saved_queues, sqs=self.sqs())
            save_buckets(self.client("s3"), self.provisioned.buckets.values(), self.paths.saved_buckets)
        if self.environments:
            self.environments.close()
        self.stop_nlp_service()  # after the functions: an in-flight invocation may still be calling it
        if self.identity:
            self.identity.stop()
        if self.search_console:
            self.search_console.stop()
        if self.dataforseo:
            self.dataforseo.stop()
        if self.demo_site:
            self.demo_site.stop()
        if self.moto:
            self.moto.stop()
        self.paths.runtime.unlink(missing_ok=True)
        self.paths.status.unlink(missing_ok=True)


def local_client(service: str, *, endpoint: str, region: str) -> Any:
    """A boto3 client for the local emulator (credentials from the environment, or dummy ones)."""
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
