"""Helpers the test suites share: throwaway services and a berth server process."""
