"""The playground beside the product: the Zoho and Slack emulators, the terminal Slack console and the `--local`
runner that wires the real server to them. It ships only in the source checkout, never in the wheel; it may
import the product (`bot`, `oauth`, `store`), and the product never imports it (except `python -m bot --local`).
"""
