"""One module per `crmkit` subcommand (see crmkit.cli)."""
