from rlscheck.cli import main

main()
