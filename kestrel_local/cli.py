"""``kestrel``: the local stack's command line."""

import argparse
import sys

from kestrel_local.config import local_settings


def cmd_up(args: argparse.Namespace) -> int:
    from kestrel_local import demo, stack

    settings = local_settings()
    print("Starting PostgreSQL and the AWS emulator...", flush=True)
    running = stack.start(settings)
    project = demo.seed(running.database.owner_url)
    print(
        "\nKestrel is up.\n"
        f"  PostgreSQL (app role):  {running.database.app_url}\n"
        f"  AWS emulator:           {running.aws_endpoint}\n"
        f"  Demo tenant:            {demo.DEMO_TENANT} with project {project.name} ({project.id})\n",
        flush=True,
    )
    if args.no_wait:
        running.stop()
        return 0
    print("Press Ctrl-C to stop.", flush=True)
    try:
        stack.wait_for_interrupt()
    finally:
        print("Stopping...", flush=True)
        running.stop()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from kestrel_local import stack

    stack.start(local_settings()).stop()
    print("Schema at head.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kestrel", description="Run the Kestrel platform locally.")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start PostgreSQL and the AWS emulator, migrate, seed demo data")
    up.add_argument("--no-wait", action="store_true", help="set everything up, then stop instead of serving")
    up.set_defaults(func=cmd_up)
    commands.add_parser("migrate", help="apply migrations to the local database").set_defaults(func=cmd_migrate)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
