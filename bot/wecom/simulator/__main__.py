"""Run the simulator on its own: `python -m bot.wecom.simulator [--config PATH] [--port N]`.

It uses the product's settings (corp id, app secrets, tokens, keys), posts callbacks to the product's
callback URL, and takes control calls on POST /_sim/<method> (JSON keyword arguments), e.g.
`curl -XPOST localhost:PORT/_sim/kf_user_says -d '{"open_kfid": "wk1", "external_userid": "wm1", "text": "hi"}'`.
The clock is a ManualClock starting now; move it with POST /_sim/advance {"seconds": 86400}."""

from __future__ import annotations

import argparse
import threading

from bot.config import load_settings

from .simulator import Simulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.wecom.simulator")
    parser.add_argument("--config", help="product settings (TOML); default: ADVISOR_BOT_CONFIG")
    parser.add_argument("--port", type=int, help="port (default: [simulator].port, 0 = any free port)")
    parser.add_argument("--product", help='callback URL template, default "http://HOST:PORT/wecom/{app}/callback"')
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    sim = Simulator.from_settings(settings)
    base = sim.start(port=args.port)
    product = args.product or f"http://{settings.server.host}:{settings.server.port}/wecom/{{app}}/callback"
    sim.connect_product(product)
    print(f"WeCom simulator: api_base_url = {base}")
    print(f"callbacks go to {product}; control: {base.replace('/cgi-bin/', '/_sim/')}<method>")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
