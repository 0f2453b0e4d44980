from catpose_lib.cli import main

raise SystemExit(main())
