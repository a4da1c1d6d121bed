"""The demo company: fictional people, companies and history across every app (`tandem demo`).

It sits above every app (it fills them all), like the project's urls.py.
"""
