from bifrost_cli.main import app

app()
