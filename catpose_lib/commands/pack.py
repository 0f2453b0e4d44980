"""``pack RESULT_JSON --name NAME``: add a finished run to the model zoo."""

HELP = ("pack a finished run's best checkpoint into the model zoo (catpose_lib/zoo/NAME: int8/fp16 weights in "
        "parts <= 25 MB, its resolved config, PROVENANCE.json), refusing a packed copy that loses > 0.01 val AP")


def add_arguments(p):
    p.add_argument("result", metavar="RESULT_JSON", help="the run's result JSON (results/<study>/<block>/NN_sS.json), "
                                                         "its resolved config NN_sS.py beside it")
    p.add_argument("--name", required=True, help="the model's name in the zoo (lowercase, digits, _ . -)")
    p.add_argument("--data", default=None, help="the run's data (course layout) where it lies here "
                                                "(default: the data_root the run recorded)")
    p.add_argument("--test-root", default=None, metavar="DIR",
                   help="a blind test set (annotations/test_info.json + images/): the packed model predicts its "
                        "boxes into the zoo folder (result_keypoints_test.json)")
    p.add_argument("--fp16", action="store_true", help="fp16 weights instead of int8 per output channel")
    p.add_argument("--max-loss", type=float, default=None, help="val AP the packed copy may lose (default 0.01)")
    p.add_argument("--force", action="store_true", help="keep a packed copy that loses more (with a warning)")
    p.add_argument("--replace", action="store_true", help="rebuild a zoo model of that name")
    p.add_argument("--zoo", default=None, metavar="DIR", help="the zoo folder (default: catpose_lib/zoo)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (the blind-test predictions)")


def run(args):
    from catpose_lib.zoo.pack_run import MAX_AP_LOSS, pack_run  # lazy: torch/mmengine (CLI speed)

    pack_run(args.result, args.name, zoo_root=args.zoo, data_root=args.data, mode="fp16" if args.fp16 else "int8",
             max_loss=MAX_AP_LOSS if args.max_loss is None else args.max_loss, force=args.force,
             replace=args.replace, test_root=args.test_root, device=args.device)
    return 0
