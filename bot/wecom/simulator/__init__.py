"""The faithful local WeCom simulator: server, callback sender, clock and fault knobs.

    with Simulator("wwcorp", {"app": {"secret": ..., "token": ..., "encoding_aes_key": ...,
                                      "agent_id": 1000002}}) as sim:
        base_url = sim.base_url          # configure wecom.api_base_url with it
        sim.connect_product("http://127.0.0.1:8000/wecom/{app}/callback")

See README.md in this folder for the Python API, the errcodes chosen for each limit and the gaps.
"""

from .callbacks import CallbackSender, Delivery, render_xml
from .errors import WeComError
from .simulator import Simulator

__all__ = ["CallbackSender", "Delivery", "Simulator", "WeComError", "render_xml"]
