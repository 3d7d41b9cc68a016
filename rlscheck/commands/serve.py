"""`rlscheck serve`: the CDS Hooks service, JSON API and page, on uvicorn."""

import inspect
import ipaddress
import os
import sys

import click

from rlscheck.commands.options import CONTEXT, Command, FileName, kb_option
from rlscheck.errors import UsageError

WARNING = """
  ************************************************************************
  *  --insecure-dev: CDS Hooks calls are NOT authenticated.              *
  *  Anyone who can reach this port can call the services. For trials   *
  *  on this machine only; never with real patient data.                 *
  ************************************************************************
"""


@click.command(cls=Command, context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes, each with its own screener.")
@click.option("--config", "config_file", type=FileName(), help="YAML settings: trusted issuers, service URL, ...")
@click.option("--insecure-dev", is_flag=True, help="Accept CDS Hooks calls without a JWT (local trials only).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True, help="Logging level; info writes one JSON access line per request.")
@kb_option
def serve(host, port, workers, config_file, insecure_dev, log_level, kb_files):
    """Run the CDS Hooks 2.0 service, the JSON API and the page for people.

    \b
    Routes:
      GET  /cds-services                 CDS Hooks discovery
      POST /cds-services/{id}            order-select, order-sign, patient-view
      POST /cds-services/{id}/feedback   card feedback
      POST /assess                       a record or FHIR Bundle -> the assess document
      GET  /health, /openapi.json        liveness, API description
      GET  /                             the page for people

    \b
    Examples:
      rlscheck serve --config serve.yaml
      rlscheck serve --insecure-dev --port 8080
    """
    try:
        import uvicorn
        import jwt  # noqa: F401  (checked here so a missing extra is reported before start)
        import starlette  # noqa: F401
        import httpx  # noqa: F401
    except ImportError as missing:
        raise UsageError(f"rlscheck serve needs the serve extra ({missing.name} is missing): "
                         "pip install 'rlscheck[serve]'") from None
    from rlscheck.api import load_knowledge_base
    from rlscheck.serve import config
    from rlscheck.serve.app import LOG_LEVEL

    settings = config.load(config_file) if config_file else config.Settings()
    settings.insecure_dev = insecure_dev
    settings.kb_files = list(kb_files)
    if insecure_dev:
        if not _loopback(host):
            raise UsageError("--insecure-dev listens on loopback only (127.0.0.1 or ::1)")
        click.echo(WARNING, err=True)
    elif not settings.issuers:
        raise UsageError("no trusted issuers: give --config with issuers (see README, 'rlscheck serve'), "
                         "or --insecure-dev for local trials")
    load_knowledge_base(settings.kb_files)  # a bad knowledge base stops here with exit code 3
    os.environ[config.ENVIRONMENT] = settings.to_environment()
    os.environ[LOG_LEVEL] = log_level.upper()
    click.echo(f"rlscheck serve: listening on http://{host if ':' not in host else f'[{host}]'}:{port} "
               f"({workers} worker{'s' if workers > 1 else ''})", err=True)
    # A worker loading the knowledge base on a busy machine can take longer than uvicorn's
    # default 5 s health check, which would kill and restart it again and again.
    patience = ({"timeout_worker_healthcheck": 60}
                if "timeout_worker_healthcheck" in inspect.signature(uvicorn.run).parameters else {})
    uvicorn.run("rlscheck.serve.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_level=log_level, server_header=False, proxy_headers=False,
                timeout_keep_alive=30, timeout_graceful_shutdown=5, **patience)
    sys.exit(0)


def _loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
