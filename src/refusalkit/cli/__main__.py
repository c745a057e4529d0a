from refusalkit.cli.app import main

main()
