"""agents/host_basics"""
