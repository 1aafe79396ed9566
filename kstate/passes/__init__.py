"""The passes of ``build`` (syntax trees to the typed model), one module
each, in the order ``build.PASSES`` runs them.  Every pass reads what the
passes before it built from the shared ``Context`` and reports into its one
``Reporter``; see docs/design.md ("The front end's passes")."""
