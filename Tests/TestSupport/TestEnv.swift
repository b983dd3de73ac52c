public enum TestEnv {}
