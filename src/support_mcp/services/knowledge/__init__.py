"""services/knowledge"""
