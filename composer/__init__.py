"""The orchestrator: stack loading, models, DAG, plan, apply, project state, CLI."""
