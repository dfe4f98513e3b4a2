pytest_plugins = ["tests.deepl_server"]
