"""The Windows dry-run harness: stand-in ansible.windows / microsoft.iis modules and a stand-in site.

site.py: the stand-in modules (STUB), FakeSite and helpers; fresh_host.py: what a newly installed Windows
Server has (from Microsoft's documentation); ps_output.py: win_powershell's result serialisation.
"""
