# The shipped default painter and sketcher (models/): load, metadata, chain, shapes.
mnemo_cli_test(models_shipped models_shipped.sh e2e)
